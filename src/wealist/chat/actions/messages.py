"""Messages: send (gapless seq, idempotent by clientMessageId), history, edit, delete,
reactions, read cursors, unread counts and search. Every change is an event of its chat
(``actions.events``)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from wealist.chat import store
from wealist.chat.actions.common import (
    NOT_A_PARTICIPANT,
    access_chat,
    access_workspace,
    decode_keyset,
    encode_cursor,
    message_out,
)
from wealist.chat.actions.events import record
from wealist.chat.actions.sending import ClientIdReused, MessageRefused, Send, send_message
from wealist.chat.frames import deleted_frame, reaction_frame, read_frame, updated_frame
from wealist.chat.rows import MessageRow
from wealist.chat.schemas import MessageOut, SendMessage
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound, ValidationFailed

__all__ = (
    "ClientIdReused",
    "MessageRefused",
    "do_add_reaction",
    "do_delete_message",
    "do_edit_message",
    "do_mark_read",
    "do_read_all",
    "do_remove_reaction",
    "do_send",
    "history",
    "search",
    "unread_count",
)

HISTORY_MAX = 100
SEARCH_MAX = 50
_END = (1 << 62) - 1  # a seq past every message


async def do_send(
    ctx: ServiceContext, me: UUID, chat_id: UUID, new: SendMessage, *, admitted: bool = False
) -> tuple[MessageOut, bool]:
    """Store a message from an active participant; (the message, whether it is new).

    ``admitted``: the caller's access was checked already (a chat socket, at connect;
    the write itself still requires an active participant of a live chat).

    The message joins the next batch of the process's writer (``actions.sending``): its
    seq is taken in the batch's transaction, it is published, and the offline and
    mentioned participants are notified through the outbox, once that committed. This
    returns after COMMIT, so the caller acks after it. A retry with the same
    clientMessageId returns the stored message (False).
    """
    if not admitted:
        async with ctx.database.connection() as conn:
            await access_chat(ctx, conn, chat_id, me)
    return await send_message(ctx, Send(me, chat_id, new))


# --- reading ----------------------------------------------------------------------------


def _before_seq(raw: str) -> int | UUID:
    if raw.isdigit():
        return int(raw)
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationFailed("before must be a message id or a seq") from None


async def history(
    ctx: ServiceContext,
    me: UUID,
    chat_id: UUID,
    *,
    limit: int,
    before: str | None,
    after: int | None,
) -> list[MessageOut]:
    """A page of live messages, oldest first: after a seq, before a seq or message, or the
    newest ones."""
    async with ctx.database.connection() as conn:
        await access_chat(ctx, conn, chat_id, me)
        if after is not None:
            rows = await store.messages_after(conn, chat_id, after, _END, limit)
            return [message_out(r) for r in rows]
        upper = _END
        if before is not None:
            cursor = _before_seq(before)
            if isinstance(cursor, UUID):
                found = await store.seq_of_message(conn, chat_id, cursor)
                if found is None:
                    raise NotFound("message not found")
                cursor = found
            upper = cursor
        rows = await store.messages_before(conn, chat_id, upper, limit)
    return [message_out(r) for r in reversed(rows)]


async def unread_count(ctx: ServiceContext, me: UUID, chat_id: UUID) -> int:
    async with ctx.database.connection() as conn:
        await access_chat(ctx, conn, chat_id, me)
        return await store.unread_count(conn, chat_id, me)


async def search(
    ctx: ServiceContext,
    me: UUID,
    *,
    text: str,
    workspace_id: UUID | None,
    chat_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[MessageOut], str | None]:
    """Messages containing ``text`` in the caller's chats, newest first (keyset pages)."""
    needle = text.strip()
    if not needle:
        raise ValidationFailed("q must not be empty")
    if workspace_id is not None:
        await access_workspace(ctx, workspace_id, me)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with ctx.database.connection() as conn:
        if chat_id is not None:
            await access_chat(ctx, conn, chat_id, me)
        rows = await store.search_messages(
            conn,
            me,
            pattern=f"%{escaped}%",
            workspace_id=workspace_id,
            chat_id=chat_id,
            before=decode_keyset(cursor),
            limit=limit,
        )
    following = encode_cursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return [message_out(r) for r in rows], following


# --- changing messages ------------------------------------------------------------------


async def _own_message(ctx: ServiceContext, conn: Conn, message_id: UUID, me: UUID) -> MessageRow:
    """A message the caller wrote, in a chat they still take part in."""
    row = await store.message_with_seat(conn, message_id, me)
    if row is None:
        raise NotFound("message not found")
    try:
        await access_workspace(ctx, row.workspace_id, me)
    except NotFound:
        raise NotFound("message not found") from None
    if not row.active:
        raise Forbidden(NOT_A_PARTICIPANT)
    if row.user_id != me:
        raise Forbidden("only the author can change this message")
    return row


async def do_edit_message(
    ctx: ServiceContext, me: UUID, message_id: UUID, content: str
) -> MessageOut:
    async with ctx.database.transaction() as tx:
        await _own_message(ctx, tx, message_id, me)
        row = await store.edit_message(tx, message_id, content)
        if row is None:
            raise NotFound("message not found")
        edited = message_out(row)
        await record(ctx, tx, edited.chat_id, updated_frame(edited))
    return edited


async def do_delete_message(ctx: ServiceContext, me: UUID, message_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        row = await _own_message(ctx, tx, message_id, me)
        if await store.delete_message(tx, message_id):
            await record(ctx, tx, row.chat_id, deleted_frame(row.chat_id, row.id, row.seq))


async def _visible_message(
    ctx: ServiceContext, conn: Conn, message_id: UUID, me: UUID
) -> MessageRow:
    row = await store.message_with_seat(conn, message_id, me)
    if row is None:
        raise NotFound("message not found")
    try:
        await access_workspace(ctx, row.workspace_id, me)
    except NotFound:
        raise NotFound("message not found") from None
    if not row.active:
        raise Forbidden(NOT_A_PARTICIPANT)
    return row


async def do_add_reaction(ctx: ServiceContext, me: UUID, message_id: UUID, emoji: str) -> None:
    async with ctx.database.transaction() as tx:
        row = await _visible_message(ctx, tx, message_id, me)
        if await store.add_reaction(tx, message_id, me, emoji):
            await record(ctx, tx, row.chat_id, reaction_frame(True, row.chat_id, row.id, me, emoji))


async def do_remove_reaction(ctx: ServiceContext, me: UUID, message_id: UUID, emoji: str) -> None:
    async with ctx.database.transaction() as tx:
        row = await _visible_message(ctx, tx, message_id, me)
        if not await store.remove_reaction(tx, message_id, me, emoji):
            raise NotFound("reaction not found")
        await record(ctx, tx, row.chat_id, reaction_frame(False, row.chat_id, row.id, me, emoji))


# --- read cursors -----------------------------------------------------------------------


async def do_mark_read(ctx: ServiceContext, me: UUID, message_ids: Iterable[UUID]) -> None:
    """Move the caller's read cursors up to these messages; 404 (and nothing changes) if
    any of them is not a live message of a chat the caller takes part in."""
    ids = sorted(set(message_ids))
    async with ctx.database.transaction() as tx:
        if await store.visible_messages(tx, me, ids) != len(ids):
            raise NotFound("message not found")
        moved = await store.advance_read_cursors(tx, me, ids)
        for r in sorted(moved, key=lambda r: r.chat_id):  # chat rows locked in one order
            await record(ctx, tx, r.chat_id, read_frame(r.chat_id, me, r.message_id, r.seq))


async def do_read_all(ctx: ServiceContext, me: UUID, chat_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        await access_chat(ctx, tx, chat_id, me)
        row = await store.read_all(tx, chat_id, me)
        if row is not None:
            await record(ctx, tx, chat_id, read_frame(chat_id, me, row.message_id, row.seq))
