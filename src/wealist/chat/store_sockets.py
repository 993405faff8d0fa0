"""The SQL of the chat sockets' periodic checks (``queries/sockets.sql``)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from wealist.chat.store import queries
from wealist.core.db import Conn

__all__ = ("SocketSeatRow", "socket_seats")


class SocketSeatRow(msgspec.Struct, frozen=True, kw_only=True):
    """Where one socket's user stands in its chat, and the chat's newest seq and rev."""

    chat_id: UUID
    user_id: UUID
    workspace_id: UUID
    last_seq: int
    last_rev: int
    active: bool


async def socket_seats(conn: Conn, pairs: Sequence[tuple[UUID, UUID]]) -> list[SocketSeatRow]:
    """The seats of many (chat, user) pairs in one query; a deleted chat's pairs are absent."""
    params = {"chats": [chat for chat, _ in pairs], "users": [user for _, user in pairs]}
    return await conn.fetch_all(queries().socket_seats, params, SocketSeatRow)
