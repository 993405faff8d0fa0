"""Outbox events the noti service applies (``ServiceSpec.event_handlers``).

The kernel's ``POST /api/internal/events/noti`` (``wealist.core.events``) claims each event id
in this database's inbox and runs the handler in the same transaction, so a redelivered
event changes nothing; types without a handler are acknowledged and ignored. A payload
that can never be applied raises ``ValidationFailed``: the transaction (and the claim)
rolls back and the relay hears 400.

``notification.requested`` is a batch handler: a relay's batch of them (one post of many
events) is one claim of their ids, one multi-row insert (``ON CONFLICT`` on the event id)
and, after the commit, one pipelined publish of every stream frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import msgspec
from typing_extensions import override

from wealist.contracts.events import (
    NOTIFICATION_REQUESTED,
    WORKSPACE_DELETED,
    WORKSPACE_MEMBER_REMOVED,
    EventEnvelope,
    WorkspaceDeleted,
    WorkspaceMemberRemoved,
)
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import ValidationFailed
from wealist.core.events import BatchHandler, EventHandler
from wealist.noti import store
from wealist.noti.actions.common import invalidate_unread
from wealist.noti.actions.notifications import create_in
from wealist.noti.schemas import NotificationFields

__all__ = ("HANDLERS",)

T = TypeVar("T")

_notification = msgspec.json.Decoder(NotificationFields)
_workspace_deleted = msgspec.json.Decoder(WorkspaceDeleted)
_member_removed = msgspec.json.Decoder(WorkspaceMemberRemoved)


def _payload(decoder: msgspec.json.Decoder[T], event: EventEnvelope) -> T:
    try:
        return decoder.decode(event.payload)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise ValidationFailed(f"{event.type} payload: {exc}") from None


def _uuid(raw: str, field: str) -> UUID:
    try:
        return msgspec.convert(raw, UUID)
    except msgspec.ValidationError:
        raise ValidationFailed(f"{field} is not a valid UUID") from None


def _occurred_at(event: EventEnvelope) -> datetime:
    try:
        when = datetime.fromisoformat(event.occurred_at)
    except ValueError:
        raise ValidationFailed("occurred_at is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise ValidationFailed("occurred_at must carry a time zone")
    return when


class NotificationRequested(BatchHandler[tuple[NotificationFields, UUID]]):
    """Create each event's notification; the event id is its idempotency key (claimed
    already). Many events: one insert, then one publish of all their frames."""

    @override
    def parse(self, event: EventEnvelope) -> tuple[NotificationFields, UUID]:
        item = _payload(_notification, event)
        if item.occurred_at is None:  # when the producer committed, not when we caught up
            item = msgspec.structs.replace(item, occurred_at=_occurred_at(event))
        return item, _uuid(event.id, "id")

    @override
    async def apply_many(
        self,
        ctx: ServiceContext,
        tx: Tx,
        items: Sequence[tuple[EventEnvelope, tuple[NotificationFields, UUID]]],
    ) -> None:
        await create_in(ctx, tx, [parsed for _, parsed in items], claimed=True)


on_notification_requested = NotificationRequested()


async def on_workspace_deleted(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    """A deleted workspace's notifications and preferences go with it."""
    workspace = _uuid(_payload(_workspace_deleted, event).workspace_id, "workspaceId")
    users = await store.delete_workspace_notifications(tx, workspace)
    tx.on_commit(lambda: invalidate_unread(ctx, [(u, workspace) for u in users]))


async def on_member_removed(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    """A removed member keeps only the notice of the removal from that workspace."""
    removed = _payload(_member_removed, event)
    workspace = _uuid(removed.workspace_id, "workspaceId")
    user = _uuid(removed.user_id, "userId")
    await store.delete_member_notifications(tx, workspace, user, _occurred_at(event))
    tx.on_commit(lambda: invalidate_unread(ctx, [(user, workspace)]))


HANDLERS: Mapping[str, EventHandler] = {
    NOTIFICATION_REQUESTED: on_notification_requested,
    WORKSPACE_DELETED: on_workspace_deleted,
    WORKSPACE_MEMBER_REMOVED: on_member_removed,
}
