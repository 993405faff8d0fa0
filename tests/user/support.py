"""Helpers shared by the user service tests."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.plugins.harness import INTERNAL_KEY

LOGIN = "/api/internal/oauth/login"
KEY = {"x-internal-api-key": INTERNAL_KEY}

Db = psycopg.AsyncConnection[Any]


def new_email(tag: str = "u") -> str:
    """A fresh address: the database is shared by every test of a worker."""
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


async def users_with_email(db: Db, email: str) -> list[tuple[Any, ...]]:
    cur = await db.execute(
        "SELECT id, email, name, provider, is_active, deleted_at FROM users"
        " WHERE lower(email) = lower(%s)",
        (email,),
    )
    return await cur.fetchall()


async def count_users(db: Db) -> int:
    cur = await db.execute("SELECT count(*) FROM users")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


def assert_error(response: Any, status: int, code: str) -> None:
    """The user service's error envelope: ``{error:{code,message}, requestId}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) - {"details"} == {"error", "requestId"}  # details: the kernel's, additive
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["requestId"] == response.headers["x-request-id"]
