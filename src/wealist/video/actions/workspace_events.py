"""What the video service does when the user service says a workspace changed (outbox
events, applied once per event id by the kernel's ``/api/internal/events/video``).

- ``workspace.member_removed``: the user leaves every call of that workspace and is
  disconnected from LiveKit (their join token would otherwise keep working until it
  expires); they may not rejoin those calls.
- ``workspace.deleted``: every call of the workspace ends, and its LiveKit room closes.

LiveKit is told inside the event's transaction: when it cannot be reached, the event is
not claimed and the relay delivers it again later.
"""

from __future__ import annotations

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
from wealist.core.db import Tx
from wealist.core.events import EventHandler
from wealist.video import store
from wealist.video.actions.common import count_ended, count_left
from wealist.video.livekit import STATE_KEY, LiveKit

__all__ = ("HANDLERS",)


def _livekit(ctx: ServiceContext) -> LiveKit | None:
    """None when LiveKit is not configured: then no LiveKit room exists either."""
    found = ctx.state.get(STATE_KEY)
    return found if isinstance(found, LiveKit) else None


async def member_removed(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    body = msgspec.json.decode(event.payload, type=WorkspaceMemberRemoved)
    workspace, user = UUID(body.workspace_id), UUID(body.user_id)
    livekit = _livekit(ctx)
    for room_id in await store.rooms_of_member(tx, workspace, user):
        await store.lock_room(tx, room_id)  # in turn with joins of the same room
        count_left(ctx, tx, await store.remove_from_room(tx, room_id, user))
        if livekit is not None:
            await livekit.remove_participant(str(room_id), str(user))


async def workspace_deleted(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    body = msgspec.json.decode(event.payload, type=WorkspaceDeleted)
    livekit = _livekit(ctx)
    for room_id in await store.active_rooms_of_workspace(tx, UUID(body.workspace_id)):
        await store.lock_room(tx, room_id)
        count_ended(ctx, tx, await store.end_room(tx, room_id))
        if livekit is not None:
            await livekit.delete_room(str(room_id))


HANDLERS: dict[str, EventHandler] = {
    WORKSPACE_MEMBER_REMOVED: member_removed,
    WORKSPACE_DELETED: workspace_deleted,
}
