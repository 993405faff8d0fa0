"""Rows the chat service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "ChatRow",
    "EventRow",
    "LockedChatRow",
    "MessageRow",
    "MessageSeatRow",
    "NewMessage",
    "ReadRow",
    "SeatRow",
    "SeenRow",
    "SendStateRow",
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


class SendStateRow(msgspec.Struct, frozen=True, kw_only=True):
    """What a batch of sends knows of one send before writing it: the chat's workspace
    and active participants (no workspace: no live chat), and the message already stored
    for it, if any (``found_*``; ``found_ours``: stored by an earlier attempt of this very
    batch, else the original of a retried clientMessageId)."""

    workspace_id: UUID | None
    members: list[UUID]
    found_id: UUID | None
    found_ours: bool | None
    found_seq: int | None
    found_content: str | None
    found_message_type: str | None
    found_file_url: str | None
    found_file_name: str | None
    found_file_size: int | None
    found_client_message_id: str | None
    found_created_at: datetime | None
    found_updated_at: datetime | None
    found_deleted_at: datetime | None
    found_event: str | None  # the frame that announced it (None once pruned)


class LockedChatRow(msgspec.Struct, frozen=True):
    """A live chat locked for a batch of sends: its counters, and the transaction's time."""

    id: UUID
    last_seq: int
    last_rev: int
    now: datetime


class NewMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message to insert, its seq and rev taken, with the frame that announces it."""

    id: UUID
    chat_id: UUID
    seq: int
    rev: int
    user_id: UUID
    content: str
    message_type: str
    file_url: str | None
    file_name: str | None
    file_size: int | None
    client_message_id: str | None
    created_at: datetime
    frame: str
