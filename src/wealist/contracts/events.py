"""Cross-service events carried by the transactional outbox.

Schema evolution: never forbid unknown fields, append new fields with defaults, never
change a field's type. Consumers dedupe by ``id``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = (
    "CONSUMERS",
    "EVENTS_PATH",
    "NOTIFICATION_REQUESTED",
    "WORKSPACE_DELETED",
    "WORKSPACE_MEMBER_REMOVED",
    "EventEnvelope",
    "NotificationRequested",
    "WorkspaceDeleted",
    "WorkspaceMemberRemoved",
)


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """What a relay delivers: a unique id, a dotted type, and the event body as JSON."""

    id: str
    type: str
    occurred_at: str
    payload: msgspec.Raw = msgspec.Raw(b"{}")


# --- event types and payloads -----------------------------------------------------------

NOTIFICATION_REQUESTED = "notification.requested"
WORKSPACE_DELETED = "workspace.deleted"
WORKSPACE_MEMBER_REMOVED = "workspace.member_removed"


# Where a relay delivers events: ``POST <consumer>/api/internal/events`` with the internal
# key and an :class:`EventEnvelope` body; the consumer answers 2xx once it applied the event
# (or had applied it before). Only services that apply an event type are listed.
EVENTS_PATH = "/api/internal/events"


class NotificationRequested(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """Ask the noti service to notify ``target_user_id`` (contract 7.1 NotificationEvent).

    The noti service creates the notification once per event id.
    """

    type: str  # a notification type of contract 7.1, e.g. WORKSPACE_INVITED
    actor_id: str
    target_user_id: str
    workspace_id: str
    resource_type: str  # task | comment | workspace | project | board
    resource_id: str
    resource_name: str | None = None
    # Strings, or JSON values where the contract nests them (BOARD_UPDATED's ``changes``).
    metadata: dict[str, Any] | None = None


class WorkspaceDeleted(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """A workspace was deleted: its projects, chats, drives and rooms go with it."""

    workspace_id: str
    deleted_by: str
    member_ids: list[str]  # the members it had, for consumers that track people


class WorkspaceMemberRemoved(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """A user stopped being a member (removed, or left): revoke what the membership gave."""

    workspace_id: str
    user_id: str
    removed_by: str


CONSUMERS: dict[str, tuple[str, ...]] = {
    NOTIFICATION_REQUESTED: ("noti",),
    WORKSPACE_DELETED: ("board",),
    WORKSPACE_MEMBER_REMOVED: ("board",),
}
"""event type -> the services that apply it (the relay delivers to each)."""
