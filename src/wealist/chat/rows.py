"""Rows the chat service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "ChatRow",
    "EventRow",
    "MessageRow",
    "MessageSeatRow",
    "ReadRow",
    "RetriedRow",
    "SeatRow",
    "SeenRow",
    "SentRow",
    "TailRow",
)


class ChatRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    workspace_id: UUID
    project_id: UUID | None
    chat_type: str
    chat_name: str
    created_by: UUID
    last_seq: int
    last_rev: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    participants: str  # JSON text (camelCase participant objects), decoded once
    unread_count: int = 0


class SeatRow(msgspec.Struct, frozen=True, kw_only=True):
    """A live chat and whether the caller takes part in it (False: left, or never joined)."""

    id: UUID
    workspace_id: UUID
    chat_type: str
    created_by: UUID
    last_seq: int
    last_rev: int
    active: bool


class MessageRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    chat_id: UUID
    seq: int
    user_id: UUID
    content: str
    message_type: str
    file_url: str | None
    file_name: str | None
    file_size: int | None
    client_message_id: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    reactions: str = "[]"  # JSON text of [{emoji, count, userIds}]
    rev: int = 0  # the event that announced it (only where a query selects it)


class RetriedRow(MessageRow, frozen=True, kw_only=True):
    """A message found by its client id, with the frame that announced it (if kept)."""

    event: str | None


class SentRow(MessageRow, frozen=True, kw_only=True):
    """A new message and the chat's other active participants (to notify)."""

    workspace_id: UUID
    others: list[UUID]


class ReadRow(msgspec.Struct, frozen=True):
    """A participant's read cursor moved: the newest message it covers."""

    chat_id: UUID
    message_id: UUID
    seq: int


class SeenRow(msgspec.Struct, frozen=True):
    visible: int


class MessageSeatRow(MessageRow, frozen=True, kw_only=True):
    """A live message, its chat's workspace, and whether the caller takes part there."""

    workspace_id: UUID
    active: bool


class TailRow(msgspec.Struct, frozen=True):
    """A chat's newest message seq and event rev, read together."""

    last_seq: int
    last_rev: int


class EventRow(msgspec.Struct, frozen=True):
    rev: int
    frame: str
