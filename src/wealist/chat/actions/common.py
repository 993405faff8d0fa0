"""What the chat actions share: ids, access checks, reply shapes and publishing."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from wealist.chat import store
from wealist.chat.rows import ChatRow, MessageRow, SeatRow
from wealist.chat.schemas import ChatOut, MessageOut, ParticipantOut, ReactionOut
from wealist.chat.settings import ChatSettings
from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound
from wealist.core.ids import decode_cursor, encode_cursor, parse_uuid
from wealist.core.realtime.hub import Hub
from wealist.core.security import Principal

__all__ = (
    "CHAT_NOT_FOUND",
    "access_chat",
    "access_workspace",
    "caller_id",
    "chat_out",
    "decode_cursor",
    "encode_cursor",
    "hub_of",
    "message_out",
    "parse_uuid",
    "publish",
    "settings_of",
)

CHAT_NOT_FOUND = "chat not found"
NOT_A_PARTICIPANT = "you are not a participant of this chat"
_participants = msgspec.json.Decoder(list[ParticipantOut])
_reactions = msgspec.json.Decoder(list[ReactionOut])
# Keyset pages start after "the end of time".
START = (datetime(9999, 1, 1, tzinfo=UTC), UUID(int=(1 << 128) - 1))


def caller_id(caller: Principal) -> UUID:
    return parse_uuid(caller.user_id, "token subject")


def settings_of(ctx: ServiceContext) -> ChatSettings:
    settings = ctx.settings
    assert isinstance(settings, ChatSettings)
    return settings


def hub_of(ctx: ServiceContext) -> Hub:
    assert ctx.hub is not None, "the chat service is a realtime service"
    return ctx.hub


async def publish(ctx: ServiceContext, chat_id: UUID, frame: str) -> None:
    """Fan ``frame`` out to every socket of the chat, in every process, exactly once."""
    await hub_of(ctx).publish(topics.chat(str(chat_id)), frame.encode())


async def access_workspace(ctx: ServiceContext, workspace_id: UUID, me: UUID) -> None:
    """404 unless the caller is an active member of the workspace (cache first)."""
    membership = await ctx.membership.get(str(workspace_id), str(me))
    if not membership.is_member:
        raise NotFound("workspace not found")


async def access_chat(ctx: ServiceContext, conn: Conn, chat_id: UUID, me: UUID) -> SeatRow:
    """The live chat, for an active participant who is still a member of its workspace."""
    seat = await store.seat(conn, chat_id, me)
    if seat is None:
        raise NotFound(CHAT_NOT_FOUND)
    try:
        await access_workspace(ctx, seat.workspace_id, me)
    except NotFound:
        raise NotFound(CHAT_NOT_FOUND) from None
    if not seat.active:
        raise Forbidden(NOT_A_PARTICIPANT)
    return seat


def chat_out(row: ChatRow, *, with_unread: bool = False) -> ChatOut:
    return ChatOut(
        chat_id=row.id,
        workspace_id=row.workspace_id,
        project_id=row.project_id,
        chat_type=row.chat_type,
        chat_name=row.chat_name,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        participants=_participants.decode(row.participants),
        last_seq=row.last_seq,
        last_rev=row.last_rev,
        unread_count=row.unread_count if with_unread else msgspec.UNSET,
    )


def message_out(row: MessageRow) -> MessageOut:
    return MessageOut(
        message_id=row.id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        content=row.content,
        message_type=row.message_type,
        file_url=row.file_url,
        file_name=row.file_name,
        file_size=row.file_size,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        seq=row.seq,
        client_message_id=row.client_message_id,
        reactions=_reactions.decode(row.reactions) if row.reactions != "[]" else [],
    )


def decode_keyset(cursor: str | None) -> tuple[datetime, UUID]:
    """Where a page starts: after the cursor's row, or at the start."""
    return START if cursor is None else decode_cursor(cursor)
