"""The video service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from datetime import datetime
from uuid import UUID

import msgspec

from wealist.core.db import Conn, Queries, load_queries
from wealist.video.rows import (
    HistoryParticipantRow,
    HistoryRow,
    ParticipantRow,
    RoomRow,
    TranscriptRow,
)

__all__ = ("Ended", "Keyset", "Seat")


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.video.queries")


class Keyset(msgspec.Struct, frozen=True):
    """A position in a newest-first list: rows strictly before (at, id) come next."""

    at: datetime
    id: UUID


class Seat(msgspec.Struct, frozen=True):
    active_count: int
    my_active: bool | None  # None: the user never joined this room
    my_removed: bool | None


class Ended(msgspec.Struct, frozen=True):
    """A call that just ended: its length, and the sessions still open that it closed."""

    duration_seconds: int
    closed: int


class _Id(msgspec.Struct, frozen=True):
    id: UUID


class _RoomId(msgspec.Struct, frozen=True):
    room_id: UUID


class _UserId(msgspec.Struct, frozen=True):
    user_id: UUID


# --- rooms ------------------------------------------------------------------------------


async def insert_room(
    conn: Conn, *, room_id: UUID, name: str, workspace_id: UUID, creator: UUID, max_count: int
) -> RoomRow:
    params = {
        "id": room_id,
        "name": name,
        "workspace": workspace_id,
        "creator": creator,
        "max": max_count,
    }
    row = await conn.fetch_one(queries().insert_room, params, RoomRow)
    if row is None:  # cannot happen: the CTE inserts unconditionally
        raise RuntimeError("insert_room returned no row")
    return row


async def room_by_id(conn: Conn, room_id: UUID) -> RoomRow | None:
    return await conn.fetch_one(queries().room_by_id, {"id": room_id}, RoomRow)


async def lock_room(conn: Conn, room_id: UUID) -> RoomRow | None:
    return await conn.fetch_one(queries().lock_room, {"id": room_id}, RoomRow)


async def workspace_rooms(
    conn: Conn, workspace_id: UUID, *, active_only: bool, after: Keyset, limit: int
) -> list[RoomRow]:
    query = queries().workspace_active_rooms if active_only else queries().workspace_rooms
    params = {"workspace": workspace_id, "at": after.at, "id": after.id, "limit": limit}
    return await conn.fetch_all(query, params, RoomRow)


async def active_rooms_of_workspace(conn: Conn, workspace_id: UUID) -> list[UUID]:
    rows = await conn.fetch_all(
        queries().active_rooms_of_workspace, {"workspace": workspace_id}, _Id
    )
    return [r.id for r in rows]


async def active_rooms_to_check(conn: Conn, *, grace_s: float, limit: int) -> list[UUID]:
    params = {"grace": grace_s, "limit": limit}
    return [r.id for r in await conn.fetch_all(queries().active_rooms_to_check, params, _Id)]


async def mark_checked(conn: Conn, room_id: UUID) -> None:
    await conn.execute(queries().mark_checked, {"id": room_id})


async def end_room(conn: Conn, room_id: UUID) -> Ended | None:
    """End the call for everyone; None when it had already ended."""
    return await conn.fetch_one(queries().end_room, {"id": room_id}, Ended)


async def end_room_if_empty(conn: Conn, room_id: UUID) -> Ended | None:
    return await conn.fetch_one(queries().end_room_if_empty, {"id": room_id}, Ended)


# --- participants -----------------------------------------------------------------------


async def seat_of(conn: Conn, room_id: UUID, user: UUID) -> Seat:
    seat = await conn.fetch_one(queries().seat_of, {"room": room_id, "user": user}, Seat)
    if seat is None:  # cannot happen: the query always returns one row
        raise RuntimeError("seat_of returned no row")
    return seat


async def take_seat(conn: Conn, room_id: UUID, user: UUID, name: str) -> bool:
    params = {"room": room_id, "user": user, "name": name}
    return await conn.execute(queries().take_seat, params) == 1


async def participant(conn: Conn, room_id: UUID, user: UUID) -> ParticipantRow | None:
    params = {"room": room_id, "user": user}
    return await conn.fetch_one(queries().participant, params, ParticipantRow)


async def active_participants(conn: Conn, rooms: list[UUID]) -> list[ParticipantRow]:
    return await conn.fetch_all(queries().active_participants, {"rooms": rooms}, ParticipantRow)


async def leave_seat(conn: Conn, room_id: UUID, user: UUID) -> bool:
    return await conn.fetch_val(queries().leave_seat, {"room": room_id, "user": user}) is not None


async def remove_from_room(conn: Conn, room_id: UUID, user: UUID) -> bool | None:
    """Whether they were in the call; None when they never joined it."""
    params = {"room": room_id, "user": user}
    found: bool | None = await conn.fetch_val(queries().remove_from_room, params)
    return found


async def rooms_of_member(conn: Conn, workspace_id: UUID, user: UUID) -> list[UUID]:
    params = {"workspace": workspace_id, "user": user}
    return [r.room_id for r in await conn.fetch_all(queries().rooms_of_member, params, _RoomId)]


async def connected(conn: Conn, room_id: UUID, user: UUID, sid: str) -> None:
    await conn.execute(queries().connected, {"room": room_id, "user": user, "sid": sid})


async def reconnected(conn: Conn, room_id: UUID, user: UUID, sid: str) -> bool:
    params = {"room": room_id, "user": user, "sid": sid}
    return await conn.execute(queries().reconnected, params) == 1


async def stale_participants(
    conn: Conn, room_id: UUID, connected_ids: list[str], grace_s: float
) -> list[UUID]:
    params = {"room": room_id, "connected": connected_ids, "grace": grace_s}
    rows = await conn.fetch_all(queries().stale_participants, params, _UserId)
    return [r.user_id for r in rows]


# --- history and transcripts ------------------------------------------------------------


async def history_by_id(conn: Conn, history_id: UUID) -> HistoryRow | None:
    return await conn.fetch_one(queries().history_by_id, {"id": history_id}, HistoryRow)


async def history_of_room(conn: Conn, room_id: UUID) -> HistoryRow | None:
    return await conn.fetch_one(queries().history_of_room, {"room": room_id}, HistoryRow)


async def count_workspace_history(conn: Conn, workspace_id: UUID) -> int:
    return int(await conn.fetch_val(queries().count_workspace_history, {"workspace": workspace_id}))


async def workspace_history(
    conn: Conn, workspace_id: UUID, *, after: Keyset, limit: int, offset: int
) -> list[HistoryRow]:
    params = {
        "workspace": workspace_id,
        "at": after.at,
        "id": after.id,
        "limit": limit,
        "offset": offset,
    }
    return await conn.fetch_all(queries().workspace_history, params, HistoryRow)


async def count_my_history(conn: Conn, user: UUID) -> int:
    return int(await conn.fetch_val(queries().count_my_history, {"user": user}))


async def my_history(
    conn: Conn, user: UUID, *, after: Keyset, limit: int, offset: int
) -> list[HistoryRow]:
    params = {"user": user, "at": after.at, "id": after.id, "limit": limit, "offset": offset}
    return await conn.fetch_all(queries().my_history, params, HistoryRow)


async def history_participants(conn: Conn, rooms: list[UUID]) -> list[HistoryParticipantRow]:
    return await conn.fetch_all(
        queries().history_participants, {"rooms": rooms}, HistoryParticipantRow
    )


async def save_transcript(conn: Conn, room_id: UUID, content: str) -> TranscriptRow | None:
    params = {"room": room_id, "content": content}
    return await conn.fetch_one(queries().save_transcript, params, TranscriptRow)


async def transcript_of_history(conn: Conn, history_id: UUID) -> TranscriptRow | None:
    params = {"history": history_id}
    return await conn.fetch_one(queries().transcript_of_history, params, TranscriptRow)


# --- webhooks ---------------------------------------------------------------------------


async def claim_webhook(conn: Conn, event_id: str, event: str) -> bool:
    """True the first time LiveKit's event id is seen."""
    return await conn.execute(queries().claim_webhook, {"id": event_id, "event": event}) == 1


async def prune_webhooks(conn: Conn, retention_s: float) -> int:
    return await conn.execute(queries().prune_webhooks, {"retention": retention_s})
