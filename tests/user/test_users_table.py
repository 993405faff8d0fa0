"""The ``users`` table itself: defaults, case-insensitive email uniqueness, the seed row."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.plugins.harness import Environment


async def test_email_is_unique_whatever_its_case_and_defaults_apply(
    environment: Environment,
) -> None:
    email = f"Case-{uuid.uuid4().hex[:12]}@Example.com"
    async with await psycopg.AsyncConnection.connect(
        environment.databases["user"], autocommit=True
    ) as db:
        cur = await db.execute(
            "INSERT INTO users (email) VALUES (%s)"
            " RETURNING name, google_id, provider, is_active, deleted_at,"
            " created_at = updated_at",
            (email,),
        )
        assert await cur.fetchone() == ("", None, "google", True, None, True)
        with pytest.raises(psycopg.errors.UniqueViolation):
            await db.execute("INSERT INTO users (email) VALUES (%s)", (email.lower(),))


async def test_the_system_user_is_seeded(environment: Environment) -> None:
    async with await psycopg.AsyncConnection.connect(environment.databases["user"]) as db:
        cur = await db.execute(
            "SELECT email, is_active, deleted_at FROM users"
            " WHERE id = '00000000-0000-0000-0000-000000000001'"
        )
        assert await cur.fetchall() == [("system@wealist.internal", True, None)]
