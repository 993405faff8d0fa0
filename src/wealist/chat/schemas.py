"""Wire structs of the chat service: REST bodies, replies and WebSocket frames.

Replies keep the original's shapes (contract 6.1): lists and details as
``{success: true, message: <payload>}``, create as the raw object. Additive fields:
``seq``/``clientMessageId``/``reactions`` on messages, ``lastSeq``/``lastRev`` on chats,
``lastReadSeq`` on participants.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = (
    "AddParticipants",
    "ChatOut",
    "CreateChat",
    "EditMessage",
    "MarkRead",
    "MessageOut",
    "Ok",
    "ParticipantOut",
    "PresenceOut",
    "PresignFile",
    "PresignOut",
    "ReactionIn",
    "ReactionOut",
    "SendMessage",
    "UnreadCount",
    "UnreadOut",
)

T = TypeVar("T")

ChatType = Literal["DM", "GROUP", "PROJECT"]
MessageType = Literal["TEXT", "IMAGE", "FILE"]
Status = Literal["ONLINE", "AWAY", "OFFLINE"]

NAME_MAX = 100
CONTENT_MAX = 10_000
CLIENT_ID_MAX = 64
FILE_SIZE_MAX = 50 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

ClientMessageId = Annotated[str, Meta(min_length=1, max_length=CLIENT_ID_MAX)]
# Bounds checked while decoding; clean_content and check_message check the rest.
Content = Annotated[str, Meta(max_length=CONTENT_MAX)]
FileSize = Annotated[int, Meta(ge=0, le=FILE_SIZE_MAX)]
Ids = Annotated[list[UUID], Meta(min_length=1, max_length=100)]


def clean_content(value: str) -> str:
    if len(value) > CONTENT_MAX:
        raise ValueError(f"content is longer than {CONTENT_MAX} characters")
    if _CONTROL.search(value):
        raise ValueError("content contains control characters")
    return value


def check_message(
    content: str, message_type: str, file_url: str | None, file_size: int | None
) -> str:
    """The content to store; ``ValueError`` names what is wrong (no message is stored)."""
    content = clean_content(content)
    if message_type == "TEXT" and not content.strip():
        raise ValueError("content must not be empty for a TEXT message")
    if message_type != "TEXT" and not file_url:
        raise ValueError(f"fileUrl is required for a {message_type} message")
    if file_size is not None and not 0 <= file_size <= FILE_SIZE_MAX:
        raise ValueError(f"fileSize must be 0..{FILE_SIZE_MAX}")
    return content


# --- requests ---------------------------------------------------------------------------


class CreateChat(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    workspace_id: UUID
    chat_type: ChatType
    participants: Ids
    chat_name: Annotated[str, Meta(max_length=NAME_MAX)] = ""
    project_id: UUID | None = None

    def __post_init__(self) -> None:
        self.chat_name = self.chat_name.strip()
        if len(self.chat_name) > NAME_MAX:
            raise ValueError(f"chatName is longer than {NAME_MAX} characters")
        if _CONTROL.search(self.chat_name):
            raise ValueError("chatName contains control characters")
        if self.chat_type != "DM" and not self.chat_name:
            raise ValueError("chatName is required")


class AddParticipants(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    user_ids: Ids


class SendMessage(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """A message over REST; the WebSocket ``MESSAGE`` frame carries the same fields."""

    content: Content = ""
    message_type: MessageType = "TEXT"
    file_url: Annotated[str, Meta(max_length=2048)] | None = None
    file_name: Annotated[str, Meta(max_length=255)] | None = None
    file_size: FileSize | None = None
    client_message_id: ClientMessageId | None = None
    mentions: Annotated[list[UUID], Meta(max_length=50)] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.content = check_message(self.content, self.message_type, self.file_url, self.file_size)


class EditMessage(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    content: Content

    def __post_init__(self) -> None:
        self.content = clean_content(self.content)
        if not self.content.strip():
            raise ValueError("content must not be empty")


class MarkRead(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    message_ids: Ids


class ReactionIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    emoji: Annotated[str, Meta(min_length=1, max_length=32)]

    def __post_init__(self) -> None:
        if _CONTROL.search(self.emoji) or not self.emoji.strip():
            raise ValueError("emoji must be visible characters")


IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


class PresignFile(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    workspace_id: UUID
    file_name: Annotated[str, Meta(min_length=1, max_length=255)]
    content_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    file_size: Annotated[int, Meta(ge=1, le=FILE_SIZE_MAX)]

    def __post_init__(self) -> None:
        if _CONTROL.search(self.file_name) or "/" in self.file_name:
            raise ValueError("fileName must be a plain file name")


# --- replies ----------------------------------------------------------------------------


class Ok(msgspec.Struct, Generic[T], frozen=True):
    """The chat service's ``{success: true, message: <payload>}``."""

    message: T
    success: bool = True


class UnreadCount(msgspec.Struct, rename="camel", frozen=True):
    unread_count: int


class UnreadOut(msgspec.Struct, frozen=True):
    """``{success: true, data: {unreadCount}}`` (contract 6.1)."""

    data: UnreadCount
    success: bool = True


class ParticipantOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    participant_id: UUID
    chat_id: UUID
    user_id: UUID
    joined_at: datetime
    last_read_at: datetime | None
    is_active: bool
    last_read_seq: int = 0


class ChatOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    chat_id: UUID
    workspace_id: UUID
    project_id: UUID | None
    chat_type: str
    chat_name: str
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    participants: list[ParticipantOut]
    last_seq: int
    last_rev: int  # the chat's newest event: a socket opened with ?rev= resumes after it
    unread_count: int | msgspec.UnsetType = msgspec.UNSET  # only in /my and workspace lists


class ReactionOut(msgspec.Struct, rename="camel", frozen=True):
    emoji: str
    count: int
    user_ids: list[UUID]


class MessageOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    message_id: UUID
    chat_id: UUID
    user_id: UUID
    content: str
    message_type: str
    file_url: str | None
    file_name: str | None
    file_size: int | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    seq: int
    client_message_id: str | None
    reactions: list[ReactionOut] = msgspec.field(default_factory=list)


class PresenceOut(msgspec.Struct, rename="camel", frozen=True):
    user_id: UUID
    workspace_id: UUID
    status: Status
    last_seen: datetime | None


class PresignOut(msgspec.Struct, rename="camel", frozen=True):
    upload_url: str
    download_url: str
    file_key: str
    expires_in: int
