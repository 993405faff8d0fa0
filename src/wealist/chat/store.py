"""The chat service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from datetime import datetime
from uuid import UUID

from wealist.chat.rows import (
    ChatRow,
    EventRow,
    LockedChatRow,
    MessageRow,
    MessageSeatRow,
    NewMessage,
    ReadRow,
    SeatRow,
    SeenRow,
    SendStateRow,
    TailRow,
)
from wealist.core.db import Conn, Queries, load_queries


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.chat.queries")


# --- chats ------------------------------------------------------------------------------


async def insert_chat(
    conn: Conn,
    *,
    chat_id: UUID,
    workspace_id: UUID,
    project_id: UUID | None,
    chat_type: str,
    name: str,
    me: UUID,
    dm_key: str | None,
    users: list[UUID],
) -> bool:
    """True when stored; False when the pair already has a DM in the workspace."""
    params = {
        "id": chat_id,
        "workspace": workspace_id,
        "project": project_id,
        "type": chat_type,
        "name": name,
        "me": me,
        "dm_key": dm_key,
        "users": users,
    }
    return await conn.fetch_val(queries().insert_chat, params) is not None


async def dm_of_pair(conn: Conn, workspace_id: UUID, dm_key: str) -> UUID | None:
    found: UUID | None = await conn.fetch_val(
        queries().dm_of_pair, {"workspace": workspace_id, "dm_key": dm_key}
    )
    return found


async def chat_detail(conn: Conn, chat_id: UUID) -> ChatRow | None:
    return await conn.fetch_one(queries().chat_detail, {"chat": chat_id}, ChatRow)


async def my_chats(
    conn: Conn,
    me: UUID,
    *,
    workspace_id: UUID | None,
    before: tuple[datetime, UUID],
    limit: int,
) -> list[ChatRow]:
    params = {
        "me": me,
        "workspace": workspace_id,
        "before_at": before[0],
        "before_id": before[1],
        "limit": limit,
    }
    return await conn.fetch_all(queries().my_chats, params, ChatRow)


async def seat(conn: Conn, chat_id: UUID, me: UUID) -> SeatRow | None:
    return await conn.fetch_one(queries().seat, {"chat": chat_id, "me": me}, SeatRow)


async def delete_chat(conn: Conn, chat_id: UUID) -> bool:
    return await conn.execute(queries().delete_chat, {"chat": chat_id}) == 1


async def add_participants(conn: Conn, chat_id: UUID, users: list[UUID]) -> list[UUID]:
    """The users who became active participants (the others already were)."""
    return await conn.fetch_column(queries().add_participants, {"chat": chat_id, "users": users})


async def delete_workspace_chats(conn: Conn, workspace_id: UUID) -> list[UUID]:
    return await conn.fetch_column(queries().delete_workspace_chats, {"workspace": workspace_id})


async def leave_workspace_chats(conn: Conn, workspace_id: UUID, user: UUID) -> list[UUID]:
    params = {"workspace": workspace_id, "user": user}
    return await conn.fetch_column(queries().leave_workspace_chats, params)


async def remove_participant(conn: Conn, chat_id: UUID, user: UUID) -> bool:
    params = {"chat": chat_id, "user": user}
    return await conn.execute(queries().remove_participant, params) == 1


async def chat_tail(conn: Conn, chat_id: UUID) -> TailRow | None:
    """A live chat's newest seq and rev; None once it is gone."""
    return await conn.fetch_one(queries().chat_tail, {"chat": chat_id}, TailRow)


async def chat_workspaces_of_user(conn: Conn, me: UUID, limit: int) -> list[UUID]:
    params = {"me": me, "limit": limit}
    return await conn.fetch_column(queries().chat_workspaces_of_user, params)


# --- messages ---------------------------------------------------------------------------


async def send_state(
    conn: Conn,
    *,
    ids: list[UUID],
    chats: list[UUID],
    users: list[UUID],
    client_ids: list[str | None],
) -> list[SendStateRow]:
    """One row per send, in the order given."""
    params = {"ids": ids, "chats": chats, "users": users, "client_ids": client_ids}
    return await conn.fetch_all(queries().send_state, params, SendStateRow)


async def lock_chats(conn: Conn, chats: list[UUID]) -> list[LockedChatRow]:
    return await conn.fetch_all(queries().lock_chats, {"chats": chats}, LockedChatRow)


async def insert_messages(conn: Conn, rows: list[NewMessage], at: datetime) -> int:
    """How many of ``rows`` were stored (with their events and the chats' counters)."""
    params = {
        "ids": [r.id for r in rows],
        "chats": [r.chat_id for r in rows],
        "seqs": [r.seq for r in rows],
        "revs": [r.rev for r in rows],
        "users": [r.user_id for r in rows],
        "contents": [r.content for r in rows],
        "types": [r.message_type for r in rows],
        "file_urls": [r.file_url for r in rows],
        "file_names": [r.file_name for r in rows],
        "file_sizes": [r.file_size for r in rows],
        "client_ids": [r.client_message_id for r in rows],
        "frames": [r.frame for r in rows],
        "at": at,
    }
    stored: int = await conn.fetch_val(queries().insert_messages, params)
    return stored


async def messages_after(
    conn: Conn, chat_id: UUID, after: int, upto: int, limit: int
) -> list[MessageRow]:
    params = {"chat": chat_id, "after": after, "upto": upto, "limit": limit}
    return await conn.fetch_all(queries().messages_after, params, MessageRow)


async def messages_before(conn: Conn, chat_id: UUID, before: int, limit: int) -> list[MessageRow]:
    params = {"chat": chat_id, "before": before, "limit": limit}
    return await conn.fetch_all(queries().messages_before, params, MessageRow)


async def seq_of_message(conn: Conn, chat_id: UUID, message_id: UUID) -> int | None:
    found: int | None = await conn.fetch_val(
        queries().seq_of_message, {"chat": chat_id, "message": message_id}
    )
    return found


async def message_with_seat(conn: Conn, message_id: UUID, me: UUID) -> MessageSeatRow | None:
    params = {"message": message_id, "me": me}
    return await conn.fetch_one(queries().message_with_seat, params, MessageSeatRow)


async def edit_message(conn: Conn, message_id: UUID, content: str) -> MessageRow | None:
    params = {"message": message_id, "content": content}
    return await conn.fetch_one(queries().edit_message, params, MessageRow)


async def delete_message(conn: Conn, message_id: UUID) -> bool:
    return await conn.execute(queries().delete_message, {"message": message_id}) == 1


async def add_reaction(conn: Conn, message_id: UUID, me: UUID, emoji: str) -> bool:
    params = {"message": message_id, "me": me, "emoji": emoji}
    return await conn.execute(queries().add_reaction, params) == 1


async def remove_reaction(conn: Conn, message_id: UUID, me: UUID, emoji: str) -> bool:
    params = {"message": message_id, "me": me, "emoji": emoji}
    return await conn.execute(queries().remove_reaction, params) == 1


async def visible_messages(conn: Conn, me: UUID, ids: list[UUID]) -> int:
    found = await conn.fetch_one(queries().visible_messages, {"me": me, "ids": ids}, SeenRow)
    return 0 if found is None else found.visible


async def advance_read_cursors(conn: Conn, me: UUID, ids: list[UUID]) -> list[ReadRow]:
    return await conn.fetch_all(queries().advance_read_cursors, {"me": me, "ids": ids}, ReadRow)


async def read_all(conn: Conn, chat_id: UUID, me: UUID) -> ReadRow | None:
    """The caller's cursor moved to the chat's newest message; None: it was there."""
    return await conn.fetch_one(queries().read_all, {"chat": chat_id, "me": me}, ReadRow)


async def unread_count(conn: Conn, chat_id: UUID, me: UUID) -> int:
    found: int | None = await conn.fetch_val(queries().unread_count, {"chat": chat_id, "me": me})
    return found or 0


async def search_messages(
    conn: Conn,
    me: UUID,
    *,
    pattern: str,
    workspace_id: UUID | None,
    chat_id: UUID | None,
    before: tuple[datetime, UUID],
    limit: int,
) -> list[MessageRow]:
    params = {
        "me": me,
        "pattern": pattern,
        "workspace": workspace_id,
        "chat": chat_id,
        "before_at": before[0],
        "before_id": before[1],
        "limit": limit,
    }
    return await conn.fetch_all(queries().search_messages, params, MessageRow)


# --- the event log ----------------------------------------------------------------------


async def append_event(conn: Conn, chat_id: UUID, rest: str) -> str:
    """Store ``'{"rev":<next>,' + rest`` as the chat's next event; the frame."""
    frame: str = await conn.fetch_val(queries().append_event, {"chat": chat_id, "rest": rest})
    return frame


async def store_event(conn: Conn, chat_id: UUID, rev: int, frame: str) -> None:
    await conn.execute(queries().store_event, {"chat": chat_id, "rev": rev, "frame": frame})


async def events_after(
    conn: Conn, chat_id: UUID, after: int, upto: int, limit: int
) -> list[EventRow]:
    params = {"chat": chat_id, "after": after, "upto": upto, "limit": limit}
    return await conn.fetch_all(queries().events_after, params, EventRow)


async def rev_of_seq(conn: Conn, chat_id: UUID, seq: int) -> int | None:
    found: int | None = await conn.fetch_val(queries().rev_of_seq, {"chat": chat_id, "seq": seq})
    return found


async def prune_events(conn: Conn, age_s: float) -> int:
    return await conn.execute(queries().prune_events, {"age": age_s})
