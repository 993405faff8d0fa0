"""What LiveKit reports: webhooks (joined, left, room finished) and the reconciliation
sweep that compares the calls in progress with LiveKit's participant lists.

Clients crash without calling leave; LiveKit notices and says so. Webhooks arrive at
least once and in no guaranteed order, so each event id is applied once, and a "left"
older than the participant's current session changes nothing. A participant LiveKit
reports but the room does not seat (removed, unknown, or the call has ended) is
disconnected again: a token stays valid for minutes, a removal must not.

The last participant dropping out does not end the call at once (a reloading page would
end it): LiveKit closes a room left empty for ``room_empty_timeout_s`` and reports
``room_finished``, which ends it; the sweep ends it if that report is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.video import store
from wealist.video.actions.common import count_ended, count_joined, count_left
from wealist.video.livekit import LiveKit, livekit_of, video_settings
from wealist.video.rows import RoomRow
from wealist.video.schemas import WebhookAck

__all__ = ("do_apply_webhook", "do_prune_webhooks", "do_reconcile")

PARTICIPANT_JOINED = "participant_joined"
PARTICIPANT_LEFT = "participant_left"
ROOM_FINISHED = "room_finished"
TRACKED = frozenset({PARTICIPANT_JOINED, PARTICIPANT_LEFT, ROOM_FINISHED})

RECONCILE_BATCH = 100


def _uuid(raw: str) -> UUID | None:
    try:
        return msgspec.convert(raw, UUID)
    except msgspec.ValidationError:
        return None


async def do_apply_webhook(ctx: ServiceContext, event: Any) -> WebhookAck:
    """Apply one verified LiveKit event (a ``livekit.WebhookEvent``)."""
    kind: str = event.event
    room_id = _uuid(event.room.name) if event.HasField("room") else None
    if kind not in TRACKED or room_id is None:
        return WebhookAck(event=kind, applied=False)  # not about one of our calls
    livekit = livekit_of(ctx)
    async with ctx.database.transaction() as tx:
        if event.id and not await store.claim_webhook(tx, event.id, kind):
            return WebhookAck(event=kind, applied=False)  # a redelivery
        room = await store.lock_room(tx, room_id)
        if room is None:
            return WebhookAck(event=kind, applied=False)
        if kind == ROOM_FINISHED:
            applied = count_ended(ctx, tx, await store.end_room(tx, room_id))
        else:
            applied = await _participant_event(ctx, tx, livekit, room, event)
    return WebhookAck(event=kind, applied=applied)


async def _participant_event(
    ctx: ServiceContext, tx: Tx, livekit: LiveKit, room: RoomRow, event: Any
) -> bool:
    identity: str = event.participant.identity
    sid: str = event.participant.sid
    at = float(event.created_at) if event.created_at else None
    if event.event == PARTICIPANT_JOINED:
        came_back = await _joined(tx, livekit, room, identity, sid=sid, at=at)
        count_joined(ctx, tx, bool(came_back))
        return came_back is not None
    user = _uuid(identity)
    if user is None:
        return False
    return count_left(ctx, tx, await _left(tx, room.id, user, sid, at))


async def _joined(
    tx: Conn, livekit: LiveKit, room: RoomRow, identity: str, *, sid: str, at: float | None
) -> bool | None:
    """True: back in the call (a new session); False: recorded or disconnected; None:
    an outdated report that changes nothing."""
    user = _uuid(identity)
    seat = None if user is None else await store.participant(tx, room.id, user)
    if seat is None or seat.removed_at is not None or not room.is_active:
        # Not someone this call seats: disconnect them (their token is still valid).
        await livekit.remove_participant(str(room.id), identity)
        return False
    assert user is not None
    if seat.is_active:
        await store.connected(tx, room.id, user, sid)
        return False
    if at is not None and seat.left_at is not None and at < _second(seat.left_at):
        return None  # an old connection, reported after they left
    return await store.reconnected(tx, room.id, user, sid) or None


async def _left(tx: Conn, room_id: UUID, user: UUID, sid: str, at: float | None) -> bool:
    seat = await store.participant(tx, room_id, user)
    if seat is None or not seat.is_active:
        return False
    if seat.livekit_sid is not None and seat.livekit_sid != sid:
        return False  # an earlier connection of someone connected again since
    if seat.livekit_sid is None and at is not None and at < _second(seat.session_started_at):
        return False  # reported after they joined again: about the previous session
    return await store.leave_seat(tx, room_id, user)


def _second(value: datetime) -> int:
    return int(value.timestamp())


async def do_reconcile(ctx: ServiceContext) -> int:
    """Compare the calls in progress with LiveKit: participants it no longer has leave
    (after a grace, so a token not yet used is not counted gone), and a call LiveKit no
    longer has ends. Returns how many participants and rooms changed."""
    settings = video_settings(ctx)
    livekit = livekit_of(ctx)
    grace = settings.reconcile_grace_s
    async with ctx.database.connection() as conn:
        rooms = await store.active_rooms_to_check(conn, grace_s=grace, limit=RECONCILE_BATCH)
    changed = 0
    for room_id in rooms:
        identities = await livekit.list_identities(str(room_id))
        async with ctx.database.transaction() as tx:
            room = await store.lock_room(tx, room_id)
            if room is None or not room.is_active:
                continue
            await store.mark_checked(tx, room_id)
            if identities is None:  # LiveKit closed it and its room_finished was lost
                changed += count_ended(ctx, tx, await store.end_room(tx, room_id))
                continue
            for user in await store.stale_participants(tx, room_id, sorted(identities), grace):
                changed += count_left(ctx, tx, await store.leave_seat(tx, room_id, user))
    return changed


async def do_prune_webhooks(ctx: ServiceContext) -> int:
    """Forget applied webhook ids older than LiveKit would redeliver them."""
    async with ctx.database.connection() as conn:
        return await store.prune_webhooks(conn, video_settings(ctx).webhook_retention_s)
