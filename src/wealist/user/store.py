"""The user service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from uuid import UUID

from wealist.core.db import Conn, Queries, load_queries
from wealist.user.rows import LoginUserRow

__all__ = ("upsert_login_user", "user_is_active")


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.user.queries")


async def upsert_login_user(
    conn: Conn, *, proposed_id: UUID, email: str, name: str, provider: str, create_only: bool
) -> LoginUserRow:
    row = await conn.fetch_one(
        queries().upsert_login_user,
        {
            "id": proposed_id,
            "email": email,
            "name": name,
            "provider": provider,
            "create_only": create_only,
        },
        LoginUserRow,
    )
    if row is None:  # cannot happen: ON CONFLICT DO UPDATE ... RETURNING always yields a row
        raise RuntimeError("upsert_login_user returned no row")
    return row


async def user_is_active(conn: Conn, user_id: UUID) -> bool:
    return bool(await conn.fetch_val(queries().user_is_active, {"id": user_id}))
