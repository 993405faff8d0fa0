"""WebSocket frames of the chat and presence sockets (contract 6.2, 6.3, extended).

Client frames are a tagged union on ``type``; ``ping`` is ours (not the kernel's
``Ping``) so that every client frame reaches the socket's handler and counts as a sign
of life. Server frames are encoded once per event and the same text is queued for every
socket.

Every frame that changes what a client shows (a message, an edit, a deletion, a reaction,
a read cursor, a participant joining or leaving, the chat's deletion) is an event of the
chat: it starts with ``{"rev":<n>,`` (the chat's gapless event number, :func:`frame_rev`)
so a socket orders and dedupes it without decoding it. A message frame continues with
``"type":"MESSAGE_RECEIVED","seq":<n>,`` (:func:`message_seq`).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from wealist.chat.schemas import (
    ClientMessageId,
    Content,
    FileSize,
    MessageOut,
    MessageType,
    PresenceOut,
    check_message,
)
from wealist.core.realtime.sequence import frame_seq, sequenced

__all__ = (
    "Active",
    "ClientFrame",
    "Heartbeat",
    "Message",
    "Ping",
    "PresenceFrame",
    "ReadMessage",
    "Resume",
    "TypingStart",
    "TypingStop",
    "encode",
    "frame_rev",
    "message_frame",
    "message_seq",
    "with_rev",
)

_encoder = msgspec.json.Encoder()


def encode(value: object) -> str:
    return _encoder.encode(value).decode()


# --- client -> server -------------------------------------------------------------------


class Ping(msgspec.Struct, tag="ping", tag_field="type"):
    pass


class Message(msgspec.Struct, tag="MESSAGE", tag_field="type", rename="camel", kw_only=True):
    content: Content = ""
    message_type: MessageType = "TEXT"
    file_url: Annotated[str, Meta(max_length=2048)] | None = None
    file_name: Annotated[str, Meta(max_length=255)] | None = None
    file_size: FileSize | None = None
    client_message_id: ClientMessageId | None = None
    mentions: Annotated[list[UUID], Meta(max_length=50)] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.content = check_message(self.content, self.message_type, self.file_url, self.file_size)


class TypingStart(msgspec.Struct, tag="TYPING_START", tag_field="type"):
    pass


class TypingStop(msgspec.Struct, tag="TYPING_STOP", tag_field="type"):
    pass


class ReadMessage(msgspec.Struct, tag="READ_MESSAGE", tag_field="type", rename="camel"):
    message_id: UUID


Cursor = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # a bigint seq or rev


class Resume(msgspec.Struct, tag="RESUME", tag_field="type"):
    """Send me every event after ``rev`` (or, without it, after message ``after``)
    again, then go on live (no gap, no double)."""

    after: Cursor | None = None
    rev: Cursor | None = None

    def __post_init__(self) -> None:
        if self.after is None and self.rev is None:
            raise ValueError("RESUME needs rev (or after)")


ClientFrame = Ping | Message | TypingStart | TypingStop | ReadMessage | Resume


class Heartbeat(msgspec.Struct, tag="heartbeat", tag_field="type"):
    """The presence socket's keep-alive; ``active`` says the user is at the keyboard."""

    active: bool = False


class Active(msgspec.Struct, tag="ACTIVE", tag_field="type"):
    pass


PresenceFrame = Ping | Heartbeat | Active


# --- server -> client -------------------------------------------------------------------

REV = "rev"
_MESSAGE = ',"type":"MESSAGE_RECEIVED","seq":'


def with_rev(rev: int, body: str) -> str:
    """An event's frame: ``body`` (an encoded object) with ``"rev"`` first."""
    return sequenced(rev, body, key=REV)


def frame_rev(frame: str) -> int | None:
    """The rev of an event's frame, else None (acks, typing, heartbeats, errors)."""
    return frame_seq(frame, key=REV)


class MessageReceived(msgspec.Struct):
    type: str
    seq: int
    message: MessageOut


def message_frame(message: MessageOut) -> str:
    return encode(MessageReceived("MESSAGE_RECEIVED", message.seq, message))


def message_seq(frame: str) -> int | None:
    """The message seq of an event's ``MESSAGE_RECEIVED`` frame, else None (without
    decoding the frame)."""
    at = frame.find(",")
    if at < 0 or not frame.startswith(_MESSAGE, at):
        return None
    start = at + len(_MESSAGE)
    return int(frame[start : frame.find(",", start)])


def ack_frame(client_message_id: str | None, message: MessageOut) -> str:
    return encode(
        {
            "type": "MESSAGE_ACK",
            "clientMessageId": client_message_id,
            "messageId": str(message.message_id),
            "seq": message.seq,
        }
    )


def typing_frame(started: bool, user_id: str, chat_id: str) -> str:
    kind = "USER_TYPING" if started else "TYPING_STOP"
    return encode({"type": kind, "userId": user_id, "chatId": chat_id})


def read_frame(chat_id: UUID, user_id: UUID, message_id: UUID, seq: int) -> str:
    return encode(
        {
            "type": "MESSAGE_READ",
            "chatId": str(chat_id),
            "userId": str(user_id),
            "messageId": str(message_id),
            "seq": seq,
        }
    )


def updated_frame(message: MessageOut) -> str:
    return encode({"type": "MESSAGE_UPDATED", "message": message})


def deleted_frame(chat_id: UUID, message_id: UUID, seq: int) -> str:
    return encode(
        {
            "type": "MESSAGE_DELETED",
            "chatId": str(chat_id),
            "messageId": str(message_id),
            "seq": seq,
        }
    )


def reaction_frame(added: bool, chat_id: UUID, message_id: UUID, user_id: UUID, emoji: str) -> str:
    return encode(
        {
            "type": "REACTION_ADDED" if added else "REACTION_REMOVED",
            "chatId": str(chat_id),
            "messageId": str(message_id),
            "userId": str(user_id),
            "emoji": emoji,
        }
    )


def member_frame(joined: bool, chat_id: UUID, user_id: UUID) -> str:
    kind = "USER_JOINED" if joined else "USER_LEFT"
    return encode({"type": kind, "chatId": str(chat_id), "userId": str(user_id)})


def chat_deleted_frame(chat_id: UUID) -> str:
    return encode({"type": "CHAT_DELETED", "chatId": str(chat_id)})


def reset_frame(reason: str, last_seq: int, last_rev: int) -> str:
    """The resume point is too far back: refetch history over REST, then follow live
    (from ``lastRev``)."""
    return encode({"type": "RESET", "reason": reason, "lastSeq": last_seq, "lastRev": last_rev})


def heartbeat_frame(last_seq: int, last_rev: int) -> str:
    # The newest message seq and event rev this socket has been given: a client that saw
    # less detects a gap.
    return encode({"type": "heartbeat", "lastSeq": last_seq, "lastRev": last_rev})


def status_frame(presence: PresenceOut) -> str:
    return encode({"type": "USER_STATUS", **msgspec.to_builtins(presence)})


def notification_frame(workspace_id: UUID, message: MessageOut) -> str:
    return encode(
        {
            "type": "NEW_MESSAGE_NOTIFICATION",
            "chatId": str(message.chat_id),
            "workspaceId": str(workspace_id),
            "message": message,
        }
    )
