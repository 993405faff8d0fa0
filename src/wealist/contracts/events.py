"""Cross-service events carried by the transactional outbox.

Schema evolution: never forbid unknown fields, append new fields with defaults, never
change a field's type. Consumers dedupe by ``id``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = (
    "CONSUMERS",
    "NOTIFICATION_REQUESTED",
    "WORKSPACE_DELETED",
    "WORKSPACE_MEMBER_REMOVED",
    "EventEnvelope",
    "NotificationRequested",
    "WorkspaceDeleted",
    "WorkspaceMemberRemoved",
    "events_path",
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


def events_path(consumer: str) -> str:
    """Where a relay delivers events: ``POST <consumer's URL>/api/internal/events/<consumer>``
    with the internal key and an :class:`EventEnvelope` body; the consumer answers 2xx once
    it applied the event (or had applied it before). The consumer's name is in the path so
    every service's route can share one process (``wealist serve all``)."""
    return f"/api/internal/events/{consumer}"


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
    WORKSPACE_DELETED: ("board", "chat", "noti", "video"),
    WORKSPACE_MEMBER_REMOVED: ("board", "chat", "noti", "video"),
}
"""event type -> the services that apply it (the relay delivers to each)."""
