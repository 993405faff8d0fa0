"""Wire structs of the video service: request bodies and the ``{success, data}`` replies.

Field names are the original frontend's (contract 9). Additive: ``name`` on history
participants, ``endedAt`` on rooms, ``updatedAt`` on transcripts, TURN credentials.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

import msgspec

__all__ = (
    "CallHistoryOut",
    "CreateRoom",
    "Done",
    "HistoryParticipantOut",
    "IceServer",
    "JoinOut",
    "Ok",
    "Page",
    "ParticipantOut",
    "RoomOut",
    "SaveTranscript",
    "TranscriptOut",
    "TurnCredentials",
    "WebhookAck",
)

T = TypeVar("T")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ROOM_NAME_MAX = 100
TRANSCRIPT_MAX = 500_000
DEFAULT_MAX_PARTICIPANTS = 10


class Ok(msgspec.Struct, Generic[T], frozen=True):
    """``{success: true, data}``: every video reply."""

    data: T
    success: bool = True


class Page(msgspec.Struct, Generic[T], frozen=True):
    """A page of call history: ``{success, data, total, limit, offset}``."""

    data: list[T]
    total: int
    limit: int
    offset: int
    success: bool = True


class Done(msgspec.Struct, frozen=True):
    """``{success: true, message}``: leave, end and removal replies."""

    message: str
    success: bool = True


# --- requests ---------------------------------------------------------------------------


def clean_name(value: str, field: str, maximum: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= maximum:
        raise ValueError(f"{field} must be 1 to {maximum} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{field} contains control characters")
    return value


class CreateRoom(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=ROOM_NAME_MAX)]
    workspace_id: UUID
    # The original treated 0 and negatives as "the default"; null means the same here.
    max_participants: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None

    def __post_init__(self) -> None:
        self.name = clean_name(self.name, "name", ROOM_NAME_MAX)


class SaveTranscript(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=TRANSCRIPT_MAX)]
    room_id: UUID | None = None  # the contract's body names the room again; the path rules

    def __post_init__(self) -> None:
        if "\x00" in self.content:
            raise ValueError("content contains a NUL character")


# --- replies ----------------------------------------------------------------------------


class ParticipantOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    user_id: UUID
    name: str
    joined_at: datetime
    left_at: datetime | None
    is_active: bool


class RoomOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    name: str
    workspace_id: UUID
    creator_id: UUID
    max_participants: int
    is_active: bool
    participant_count: int
    participants: list[ParticipantOut]  # who is in the call now
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None


class JoinOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    room: RoomOut
    token: str
    ws_url: str
    expires_at: datetime  # the token's; it only has to be valid when connecting


class HistoryParticipantOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    user_id: UUID
    name: str
    joined_at: datetime
    left_at: datetime
    duration_seconds: int


class CallHistoryOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    room_id: UUID
    room_name: str
    workspace_id: UUID
    creator_id: UUID
    started_at: datetime
    ended_at: datetime
    duration_seconds: int
    max_participants: int
    total_participants: int
    participants: list[HistoryParticipantOut]


class TranscriptOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    call_history_id: UUID
    room_id: UUID
    content: str
    created_at: datetime
    updated_at: datetime


class IceServer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of ``RTCConfiguration.iceServers``."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class TurnCredentials(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    username: str
    password: str
    ttl: int
    expires_at: datetime
    ice_servers: list[IceServer]


class WebhookAck(msgspec.Struct, frozen=True, kw_only=True):
    event: str
    applied: bool  # False: a duplicate delivery, or an event the service does not track
