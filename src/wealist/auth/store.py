"""auth_db access: one function per named query."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache

from wealist.auth.rows import (
    PasswordAccount,
    RevokedSession,
    RevokedToken,
    RotatedSession,
    SessionRow,
    SessionState,
)
from wealist.core.db import Conn, Queries, load_queries


@cache
def q() -> Queries:
    return load_queries("wealist.auth.queries")


async def create_session(
    db: Conn,
    *,
    id: uuid.UUID,  # noqa: A002
    user_id: uuid.UUID,
    email: str | None,
    method: str,
    jti: str,
    user_agent: str,
    max_age_s: int,
) -> datetime:
    params = {
        "id": id,
        "user_id": user_id,
        "email": email,
        "method": method,
        "jti": jti,
        "user_agent": user_agent,
        "max_age_s": max_age_s,
    }
    expires_at: datetime = await db.fetch_val(q().create_session, params)
    return expires_at


async def rotate_session(
    db: Conn, session_id: uuid.UUID, user_id: uuid.UUID, jti: str, new_jti: str
) -> RotatedSession | None:
    params = {"id": session_id, "user_id": user_id, "jti": jti, "new_jti": new_jti}
    return await db.fetch_one(q().rotate_session, params, RotatedSession)


async def get_session(db: Conn, session_id: uuid.UUID) -> SessionState | None:
    return await db.fetch_one(q().get_session, {"id": session_id}, SessionState)


async def revoke_session(db: Conn, session_id: uuid.UUID, user_id: uuid.UUID, reason: str) -> bool:
    params = {"id": session_id, "user_id": user_id, "reason": reason}
    return await db.fetch_val(q().revoke_session, params) is not None


async def revoke_other_sessions(
    db: Conn, user_id: uuid.UUID, keep: uuid.UUID, reason: str
) -> list[uuid.UUID]:
    params = {"user_id": user_id, "keep": keep, "reason": reason}
    return await db.fetch_column(q().revoke_other_sessions, params)


async def list_live_sessions(db: Conn, user_id: uuid.UUID) -> list[SessionRow]:
    return await db.fetch_all(q().list_live_sessions, {"user_id": user_id}, SessionRow)


async def recently_revoked_sessions(db: Conn, window_s: int) -> list[RevokedSession]:
    return await db.fetch_all(q().recently_revoked_sessions, {"window_s": window_s}, RevokedSession)


async def revoke_token(db: Conn, jti: str, expires_at: int) -> None:
    await db.execute(q().revoke_token, {"jti": jti, "expires_at": expires_at})


async def live_revoked_tokens(db: Conn) -> list[RevokedToken]:
    return await db.fetch_all(q().live_revoked_tokens, None, RevokedToken)


async def prune_revoked_tokens(db: Conn) -> int:
    return await db.execute(q().prune_revoked_tokens)


async def create_password_account(
    db: Conn, user_id: uuid.UUID, email: str, password_hash: str
) -> bool:
    params = {"user_id": user_id, "email": email, "password_hash": password_hash}
    return await db.fetch_val(q().create_password_account, params) is not None


async def get_password_account(db: Conn, email: str) -> PasswordAccount | None:
    return await db.fetch_one(q().get_password_account, {"email": email}, PasswordAccount)


async def update_password_hash(db: Conn, user_id: uuid.UUID, password_hash: str) -> None:
    await db.execute(q().update_password_hash, {"user_id": user_id, "password_hash": password_hash})


async def find_identity(db: Conn, issuer: str, subject: str, email: str | None) -> uuid.UUID | None:
    params = {"issuer": issuer, "subject": subject, "email": email}
    found: uuid.UUID | None = await db.fetch_val(q().touch_identity, params)
    return found


async def link_identity(
    db: Conn, issuer: str, subject: str, user_id: uuid.UUID, email: str | None
) -> uuid.UUID:
    params = {"issuer": issuer, "subject": subject, "user_id": user_id, "email": email}
    linked: uuid.UUID = await db.fetch_val(q().link_identity, params)
    return linked
