"""What the video actions share: ids, who may see a workspace or room, reply shapes.

Access policy (contract 9): whoever is not an active member of a room's workspace gets
403 for it and everything in it, with no data; a room or history that does not exist is
404. Ending a call or removing someone from it takes its creator or a workspace
OWNER/ADMIN.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from wealist.contracts.membership import Membership
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound
from wealist.core.ids import decode_cursor, encode_cursor, parse_uuid
from wealist.core.security import Principal
from wealist.video import store
from wealist.video.metrics import metrics_of
from wealist.video.rows import ParticipantRow, RoomRow
from wealist.video.schemas import ParticipantOut, RoomOut
from wealist.video.store import Ended, Keyset

__all__ = (
    "START",
    "NotInRoom",
    "RoomEnded",
    "RoomFull",
    "access_room",
    "access_workspace",
    "caller_id",
    "check_active",
    "check_can_manage",
    "count_ended",
    "count_joined",
    "count_left",
    "decode_cursor",
    "encode_cursor",
    "parse_uuid",
    "participant_out",
    "room_out",
)

ROOM_NOT_FOUND = "room not found"
NOT_A_MEMBER = "you are not a member of this workspace"
MANAGERS = frozenset({"OWNER", "ADMIN"})

# Before every real row of a newest-first list.
START = Keyset(datetime(9999, 12, 31, tzinfo=UTC), UUID(int=(1 << 128) - 1))


class RoomFull(Conflict):
    code = "ROOM_FULL"
    default_message = "Room is full"


class RoomEnded(Gone):
    code = "ROOM_ENDED"
    default_message = "Room has ended"


class NotInRoom(BadRequest):
    code = "NOT_IN_ROOM"
    default_message = "User is not in room"


def caller_id(caller: Principal) -> UUID:
    return parse_uuid(caller.user_id, "token subject")


async def access_workspace(ctx: ServiceContext, workspace_id: UUID, me: UUID) -> Membership:
    """403 unless the caller is an active member of the workspace (cache first)."""
    membership = await ctx.membership.get(str(workspace_id), str(me))
    if not membership.is_member:
        raise Forbidden(NOT_A_MEMBER)
    return membership


async def access_room(ctx: ServiceContext, room_id: UUID, me: UUID) -> tuple[RoomRow, Membership]:
    """The room and the caller's membership of its workspace: 404 without a room, 403
    outside. No connection is held while membership is asked (it may take a round trip)."""
    async with ctx.database.connection() as conn:
        room = await store.room_by_id(conn, room_id)
    if room is None:
        raise NotFound(ROOM_NOT_FOUND)
    return room, await access_workspace(ctx, room.workspace_id, me)


def check_can_manage(room: RoomRow, membership: Membership, me: UUID, what: str) -> None:
    if room.creator_id != me and membership.role not in MANAGERS:
        raise Forbidden(f"only the room's creator or a workspace admin can {what}")


def check_active(room: RoomRow) -> None:
    if not room.is_active:
        raise RoomEnded


def count_ended(ctx: ServiceContext, tx: Tx, ended: Ended | None) -> bool:
    """Whether a call just ended; its metrics are counted once the transaction commits."""
    if ended is None:
        return False
    metrics = metrics_of(ctx)

    def record() -> None:
        metrics.call_ended(ended.duration_seconds)
        metrics.left.inc(ended.closed)

    tx.on_commit(record)
    return True


def count_joined(ctx: ServiceContext, tx: Tx, joined: bool) -> bool:
    if joined:
        tx.on_commit(metrics_of(ctx).joined.inc)
    return joined


def count_left(ctx: ServiceContext, tx: Tx, left: bool | None) -> bool:
    if left:
        tx.on_commit(metrics_of(ctx).left.inc)
    return bool(left)


def participant_out(row: ParticipantRow) -> ParticipantOut:
    return ParticipantOut(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        joined_at=row.joined_at,
        left_at=row.left_at,
        is_active=row.is_active,
    )


def room_out(row: RoomRow, participants: list[ParticipantRow]) -> RoomOut:
    """The room with who is in the call now (``participants`` may hold other rooms too)."""
    present = [participant_out(p) for p in participants if p.room_id == row.id and p.is_active]
    return RoomOut(
        id=row.id,
        name=row.name,
        workspace_id=row.workspace_id,
        creator_id=row.creator_id,
        max_participants=row.max_participants,
        is_active=row.is_active,
        participant_count=len(present),
        participants=present,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
    )


def decode_keyset(cursor: str | None) -> Keyset:
    """Where a page starts: after the cursor's row, or at the start."""
    return START if cursor is None else Keyset(*decode_cursor(cursor))
