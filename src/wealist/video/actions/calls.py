"""Being in a call: join (a scoped LiveKit token), leave, end for everyone, remove someone.

Every change of one room's participants runs under that room's row lock, so concurrent
joins never seat more than ``maxParticipants``. LiveKit is told inside the transaction:
when it refuses, nothing changes and the caller hears 503 ``LIVEKIT_UNAVAILABLE``. If the
commit then fails, LiveKit's webhooks and the reconciliation sweep repair the difference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound
from wealist.video import store
from wealist.video.actions.common import (
    ROOM_NOT_FOUND,
    NotInRoom,
    RoomFull,
    access_room,
    check_active,
    check_can_manage,
    count_ended,
    count_joined,
    count_left,
    room_out,
)
from wealist.video.livekit import (
    JoinIdentity,
    LiveKitNotConfigured,
    livekit_of,
    mint_join_token,
    video_settings,
)
from wealist.video.profiles import workspace_profile
from wealist.video.rows import RoomRow
from wealist.video.schemas import JoinOut

__all__ = ("do_end", "do_join", "do_leave", "do_remove_participant")


async def _lock(tx: Conn, room_id: UUID) -> RoomRow:
    row = await store.lock_room(tx, room_id)
    if row is None:
        raise NotFound(ROOM_NOT_FOUND)
    return row


async def do_join(ctx: ServiceContext, me: UUID, room_id: UUID, access_token: str) -> JoinOut:
    """A seat in the call and a token for it; joining again while in the call only
    issues a new token (a reloaded page), without taking a second seat."""
    settings = video_settings(ctx)
    if not settings.livekit_configured:
        raise LiveKitNotConfigured
    room, _ = await access_room(ctx, room_id, me)
    check_active(room)
    profile = await workspace_profile(ctx, str(room.workspace_id), str(me), access_token)
    async with ctx.database.transaction() as tx:
        locked = await _lock(tx, room_id)
        check_active(locked)
        seat = await store.seat_of(tx, room_id, me)
        if seat.my_removed:
            raise Forbidden("you were removed from this call")
        if not seat.my_active:
            if seat.active_count >= locked.max_participants:
                raise RoomFull
            count_joined(ctx, tx, await store.take_seat(tx, room_id, me, profile.nick_name))
        present = await store.active_participants(tx, [room_id])
    who = JoinIdentity(str(me), profile.nick_name, profile.profile_image_url)
    token = mint_join_token(settings, str(room_id), who)
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.join_token_ttl_s)
    return JoinOut(
        room=room_out(locked, present),
        token=token,
        ws_url=settings.livekit_ws_url or settings.livekit_url,
        expires_at=expires_at,
    )


async def do_leave(ctx: ServiceContext, me: UUID, room_id: UUID) -> None:
    """Leave the call; the last one out ends it. The creator leaving ends nothing."""
    await access_room(ctx, room_id, me)
    livekit = livekit_of(ctx)
    async with ctx.database.transaction() as tx:
        await _lock(tx, room_id)
        if not count_left(ctx, tx, await store.leave_seat(tx, room_id, me)):
            raise NotInRoom
        ended = count_ended(ctx, tx, await store.end_room_if_empty(tx, room_id))
        await livekit.remove_participant(str(room_id), str(me))
        if ended:
            await livekit.delete_room(str(room_id))


async def do_end(ctx: ServiceContext, me: UUID, room_id: UUID) -> None:
    """End the call for everyone: its creator or a workspace admin (403 for others)."""
    room, membership = await access_room(ctx, room_id, me)
    check_can_manage(room, membership, me, "end this call")
    livekit = livekit_of(ctx)
    async with ctx.database.transaction() as tx:
        check_active(await _lock(tx, room_id))
        count_ended(ctx, tx, await store.end_room(tx, room_id))
        await livekit.delete_room(str(room_id))


async def do_remove_participant(
    ctx: ServiceContext, me: UUID, room_id: UUID, user_id: UUID
) -> None:
    """Take someone out of the call and out of LiveKit; they may not join it again.
    Removing oneself is leaving."""
    if user_id == me:
        await do_leave(ctx, me, room_id)
        return
    room, membership = await access_room(ctx, room_id, me)
    check_can_manage(room, membership, me, "remove participants")
    livekit = livekit_of(ctx)
    async with ctx.database.transaction() as tx:
        check_active(await _lock(tx, room_id))
        was_in_call = await store.remove_from_room(tx, room_id, user_id)
        if was_in_call is None:
            raise NotInRoom
        count_left(ctx, tx, was_in_call)
        await livekit.remove_participant(str(room_id), str(user_id))
