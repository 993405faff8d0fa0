"""Rows the video service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "HistoryParticipantRow",
    "HistoryRow",
    "ParticipantRow",
    "RoomRow",
    "SeatRow",
    "TranscriptRow",
)


class RoomRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    workspace_id: UUID
    creator_id: UUID
    max_participants: int
    is_active: bool
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    active_count: int  # participants in the call now


class SeatRow(RoomRow, frozen=True, kw_only=True):
    """A room, locked, with the caller's place in it (None: never joined)."""

    my_active: bool | None
    my_removed: bool | None


class ParticipantRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    room_id: UUID
    user_id: UUID
    name: str
    joined_at: datetime
    session_started_at: datetime
    left_at: datetime | None
    is_active: bool
    livekit_sid: str | None
    removed_at: datetime | None


class HistoryRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    room_id: UUID
    room_name: str
    workspace_id: UUID
    creator_id: UUID
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: int
    max_participants: int
    total_participants: int


class HistoryParticipantRow(msgspec.Struct, frozen=True, kw_only=True):
    room_id: UUID
    user_id: UUID
    name: str
    joined_at: datetime
    left_at: datetime
    duration_seconds: int


class TranscriptRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    call_history_id: UUID
    room_id: UUID
    content: str
    created_at: datetime
    updated_at: datetime
