"""Rooms: create (with its LiveKit room), list a workspace's, read one, who is in it."""

from __future__ import annotations

import uuid
from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.video import store
from wealist.video.actions.common import (
    access_room,
    access_workspace,
    decode_keyset,
    encode_cursor,
    participant_out,
    room_out,
)
from wealist.video.livekit import livekit_of
from wealist.video.metrics import metrics_of
from wealist.video.schemas import DEFAULT_MAX_PARTICIPANTS, CreateRoom, ParticipantOut, RoomOut

__all__ = ("do_create_room", "get_room", "list_participants", "list_rooms")

ROOMS_PAGE_MAX = 100


async def do_create_room(ctx: ServiceContext, me: UUID, new: CreateRoom) -> RoomOut:
    """A room in one of the caller's workspaces, and its LiveKit room.

    LiveKit is asked inside the transaction: when it refuses or does not answer, the room
    is not stored and the caller hears 503 (the original stored it and hid the error).
    """
    await access_workspace(ctx, new.workspace_id, me)
    livekit = livekit_of(ctx)
    max_count = new.max_participants or DEFAULT_MAX_PARTICIPANTS
    room_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        row = await store.insert_room(
            tx,
            room_id=room_id,
            name=new.name,
            workspace_id=new.workspace_id,
            creator=me,
            max_count=max_count,
        )
        await livekit.create_room(str(room_id), max_count)
        tx.on_commit(metrics_of(ctx).rooms_created.inc)
    return room_out(row, [])


async def list_rooms(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    *,
    active_only: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[RoomOut], str | None]:
    """A page of the workspace's rooms, newest first, and the next page's cursor.

    Two queries whatever the page size: the rooms, then who is in their calls.
    """
    after = decode_keyset(cursor)
    await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.workspace_rooms(
            conn, workspace_id, active_only=active_only, after=after, limit=limit
        )
        present = await store.active_participants(conn, [r.id for r in rows]) if rows else []
    following = encode_cursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return [room_out(r, present) for r in rows], following


async def get_room(ctx: ServiceContext, me: UUID, room_id: UUID) -> RoomOut:
    row, _ = await access_room(ctx, room_id, me)
    async with ctx.database.connection() as conn:
        present = await store.active_participants(conn, [room_id])
    return room_out(row, present)


async def list_participants(ctx: ServiceContext, me: UUID, room_id: UUID) -> list[ParticipantOut]:
    """Who is in the call now, in join order."""
    await access_room(ctx, room_id, me)
    async with ctx.database.connection() as conn:
        present = await store.active_participants(conn, [room_id])
    return [participant_out(p) for p in present]
