"""Events from the user service (through the outbox relay), applied once per event id.

- ``workspace.member_removed``: the user leaves every call of that workspace and is
  disconnected from LiveKit (a join token would otherwise keep working until it expires);
  they may not rejoin those calls.
- ``workspace.deleted``: every call of the workspace ends, and its LiveKit room closes.

LiveKit is told inside the transaction: if it cannot be reached the event is not
claimed, the relay delivers it again later.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

import msgspec

from wealist.contracts.events import (
    WORKSPACE_DELETED,
    WORKSPACE_MEMBER_REMOVED,
    EventEnvelope,
    WorkspaceDeleted,
    WorkspaceMemberRemoved,
)
from wealist.core.context import ServiceContext
from wealist.core.errors import ValidationFailed
from wealist.core.outbox import claim_event
from wealist.video import store
from wealist.video.livekit import STATE_KEY, LiveKit

__all__ = ("HANDLED", "do_apply_event", "parse_event")

HANDLED = frozenset({WORKSPACE_MEMBER_REMOVED, WORKSPACE_DELETED})

P = TypeVar("P")


_envelope = msgspec.json.Decoder(EventEnvelope)


def parse_event(body: bytes) -> EventEnvelope:
    """An event as the relay delivers it; its id must be a UUID (the inbox's key)."""
    try:
        event = _envelope.decode(body)
        msgspec.convert(event.id, UUID)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise ValidationFailed(f"not an event envelope: {exc}") from None
    return event


def _payload(event: EventEnvelope, kind: type[P]) -> P:
    try:
        return msgspec.json.decode(event.payload, type=kind)
    except msgspec.DecodeError as exc:
        raise ValidationFailed(f"{event.type} payload: {exc}") from None


async def do_apply_event(ctx: ServiceContext, event: EventEnvelope) -> bool:
    """Apply ``event``; False when it was applied before or is not the video service's."""
    if event.type not in HANDLED:
        return False
    livekit = ctx.state.get(STATE_KEY)  # none configured: there are no LiveKit rooms either
    async with ctx.database.transaction() as tx:
        if not await claim_event(tx, event.id):
            return False
        if event.type == WORKSPACE_MEMBER_REMOVED:
            removed = _payload(event, WorkspaceMemberRemoved)
            user = msgspec.convert(removed.user_id, UUID)
            workspace = msgspec.convert(removed.workspace_id, UUID)
            for room_id in await store.rooms_of_member(tx, workspace, user):
                await store.lock_room(tx, room_id)
                await store.remove_from_room(tx, room_id, user)
                if isinstance(livekit, LiveKit):
                    await livekit.remove_participant(str(room_id), str(user))
        else:
            deleted = _payload(event, WorkspaceDeleted)
            workspace = msgspec.convert(deleted.workspace_id, UUID)
            for room_id in await store.active_rooms_of_workspace(tx, workspace):
                await store.lock_room(tx, room_id)
                await store.end_room(tx, room_id)
                if isinstance(livekit, LiveKit):
                    await livekit.delete_room(str(room_id))
    return True
