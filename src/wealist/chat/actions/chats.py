"""Chats: create (a DM once per pair), list, read, delete, participants."""

from __future__ import annotations

import asyncio
import uuid
from uuid import UUID

from wealist.chat import store
from wealist.chat.actions.common import (
    CHAT_NOT_FOUND,
    NOT_A_PARTICIPANT,
    access_chat,
    access_workspace,
    chat_out,
    decode_keyset,
    encode_cursor,
)
from wealist.chat.actions.events import record
from wealist.chat.frames import chat_deleted_frame, member_frame
from wealist.chat.schemas import ChatOut, CreateChat
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound, ValidationFailed

__all__ = (
    "CHATS_PAGE_MAX",
    "do_add_participants",
    "do_create_chat",
    "do_delete_chat",
    "do_remove_participant",
    "get_chat",
    "list_chats",
)

CHATS_PAGE_MAX = 500


async def check_members(ctx: ServiceContext, workspace_id: UUID, users: list[UUID]) -> None:
    """400 unless every user is an active member of the workspace (cache first)."""
    answers = await asyncio.gather(*(ctx.membership.get(str(workspace_id), str(u)) for u in users))
    strangers = [str(a.user_id) for a in answers if not a.is_member]
    if strangers:
        raise ValidationFailed(
            "participants must be members of the workspace", details={"userIds": strangers}
        )


async def _detail(conn: Conn, chat_id: UUID) -> ChatOut:
    row = await store.chat_detail(conn, chat_id)
    if row is None:
        raise NotFound(CHAT_NOT_FOUND)
    return chat_out(row)


async def do_create_chat(ctx: ServiceContext, me: UUID, new: CreateChat) -> tuple[ChatOut, bool]:
    """A chat in a workspace the caller belongs to, with the caller among its participants;
    (the chat, whether it is new). A DM for a pair that has one returns that one."""
    await access_workspace(ctx, new.workspace_id, me)
    users = [me, *dict.fromkeys(u for u in new.participants if u != me)]
    dm_key = None
    if new.chat_type == "DM":
        if len(users) != 2:
            raise ValidationFailed("a DM has exactly one other participant")
        dm_key = ":".join(sorted(str(u) for u in users))
    await check_members(ctx, new.workspace_id, users[1:])
    chat_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        stored = await store.insert_chat(
            tx,
            chat_id=chat_id,
            workspace_id=new.workspace_id,
            project_id=new.project_id,
            chat_type=new.chat_type,
            name=new.chat_name,
            me=me,
            dm_key=dm_key,
            users=users,
        )
        if not stored:
            assert dm_key is not None  # only a DM can meet a conflict
            existing = await store.dm_of_pair(tx, new.workspace_id, dm_key)
            if existing is None:  # deleted since the insert looked: a retry will insert
                raise NotFound(CHAT_NOT_FOUND)
            chat_id = existing
            await store.add_participants(tx, chat_id, users)  # whoever had left is back
        return await _detail(tx, chat_id), stored


async def list_chats(
    ctx: ServiceContext,
    me: UUID,
    *,
    workspace_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ChatOut], str | None]:
    """The caller's chats (of one workspace, for a member of it), newest activity first,
    each with the caller's unread count: one query per page."""
    if workspace_id is not None:
        await access_workspace(ctx, workspace_id, me)
    async with ctx.database.connection() as conn:
        rows = await store.my_chats(
            conn, me, workspace_id=workspace_id, before=decode_keyset(cursor), limit=limit
        )
    following = encode_cursor(rows[-1].updated_at, rows[-1].id) if len(rows) == limit else None
    return [chat_out(r, with_unread=True) for r in rows], following


async def get_chat(ctx: ServiceContext, me: UUID, chat_id: UUID) -> ChatOut:
    async with ctx.database.connection() as conn:
        row = await store.chat_detail(conn, chat_id)
        if row is None:
            raise NotFound(CHAT_NOT_FOUND)
        try:
            await access_workspace(ctx, row.workspace_id, me)
        except NotFound:
            raise NotFound(CHAT_NOT_FOUND) from None
        found = chat_out(row)
    if not any(p.user_id == me for p in found.participants):
        raise Forbidden(NOT_A_PARTICIPANT)
    return found


async def do_delete_chat(ctx: ServiceContext, me: UUID, chat_id: UUID) -> None:
    """Soft-delete a chat (its creator only); its sockets hear ``CHAT_DELETED``."""
    async with ctx.database.transaction() as tx:
        seat = await access_chat(ctx, tx, chat_id, me)
        if seat.created_by != me:
            raise Forbidden("only the creator can delete this chat")
        if await store.delete_chat(tx, chat_id):
            await record(ctx, tx, chat_id, chat_deleted_frame(chat_id))


async def do_add_participants(
    ctx: ServiceContext, me: UUID, chat_id: UUID, users: list[UUID]
) -> ChatOut:
    """Add workspace members to a group or project chat (any participant may)."""
    async with ctx.database.transaction() as tx:
        seat = await access_chat(ctx, tx, chat_id, me)
        if seat.chat_type == "DM":
            raise ValidationFailed("a DM has exactly two participants; start a group chat")
        wanted = list(dict.fromkeys(users))
        await check_members(ctx, seat.workspace_id, wanted)
        for user in await store.add_participants(tx, chat_id, wanted):
            await record(ctx, tx, chat_id, member_frame(True, chat_id, user))
        return await _detail(tx, chat_id)


async def do_remove_participant(ctx: ServiceContext, me: UUID, chat_id: UUID, user: UUID) -> None:
    """Anyone may leave; the creator may remove others but not leave (delete instead)."""
    async with ctx.database.transaction() as tx:
        seat = await access_chat(ctx, tx, chat_id, me)
        if user == me and seat.created_by == me:
            raise Forbidden("the creator cannot leave the chat; delete the chat instead")
        if me not in (user, seat.created_by):
            raise Forbidden("only the creator can remove other participants")
        if not await store.remove_participant(tx, chat_id, user):
            raise NotFound("participant not found")
        await record(ctx, tx, chat_id, member_frame(False, chat_id, user))
