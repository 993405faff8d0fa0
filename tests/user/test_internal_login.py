"""``POST /api/internal/oauth/login``: find-or-create by email, for the auth service."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.user.support import (
    KEY,
    LOGIN,
    Db,
    assert_error,
    count_users,
    new_email,
    users_with_email,
)


async def login(client: AsyncTestClient[Litestar], **body: Any) -> Any:
    return await client.post(LOGIN, json=body, headers=KEY)


# --- find or create ----------------------------------------------------------------------


async def test_creates_the_user_then_finds_it_whatever_the_case_of_the_email(
    client: AsyncTestClient[Litestar], db: Db
) -> None:
    email = new_email("Mixed")
    first = await login(client, email=email, name="Ada", provider="google")
    assert first.status_code == 200, first.text
    user_id = first.json()["userId"]
    assert first.json() == {"userId": str(uuid.UUID(user_id))}

    again = await login(client, email=f"  {email.upper()} ", name="Other", provider="local")
    assert again.status_code == 200
    assert again.json() == {"userId": user_id}

    stored = await users_with_email(db, email)
    # one row, the email as first given, the provider of its creation, the name untouched
    assert stored == [(uuid.UUID(user_id), email, "Ada", "google", True, None)]


async def test_an_empty_name_is_filled_in_and_a_set_one_is_kept(
    client: AsyncTestClient[Litestar], db: Db
) -> None:
    email = new_email()
    user_id = (await login(client, email=email, name="", provider="local")).json()["userId"]
    assert (await users_with_email(db, email))[0][2] == ""

    await login(client, email=email, name="   ", provider="local")  # blank is still empty
    assert (await users_with_email(db, email))[0][2] == ""

    filled = await login(client, email=email, name="  Grace  ", provider="google")
    assert filled.json() == {"userId": user_id}
    assert (await users_with_email(db, email))[0][2] == "Grace"

    await login(client, email=email, name="Someone Else", provider="google")
    assert (await users_with_email(db, email))[0][2] == "Grace"


async def test_a_login_is_one_round_trip(client: AsyncTestClient[Litestar]) -> None:
    database = client.app.state["contexts"]["user"].database
    email = new_email()
    for name in ("", "Filled", "Kept"):  # create, fill in the name, find
        before = database.calls
        assert (await login(client, email=email, name=name, provider="google")).status_code == 200
        assert database.calls - before == 1


async def test_any_lowercase_provider_name_is_accepted(
    client: AsyncTestClient[Litestar], db: Db
) -> None:
    email = new_email()
    response = await login(client, email=email, name="Kim", provider="github_enterprise-2")
    assert response.status_code == 200
    assert (await users_with_email(db, email))[0][3] == "github_enterprise-2"


# --- createOnly (password sign-up) -------------------------------------------------------


async def test_create_only_creates_a_new_user(client: AsyncTestClient[Litestar], db: Db) -> None:
    email = new_email()
    response = await login(client, email=email, name="Lin", provider="local", createOnly=True)
    assert response.status_code == 200
    assert [row[0] for row in await users_with_email(db, email)] == [
        uuid.UUID(response.json()["userId"])
    ]


async def test_create_only_refuses_an_existing_email_and_changes_nothing(
    client: AsyncTestClient[Litestar], db: Db
) -> None:
    email = new_email()
    await login(client, email=email, name="", provider="google")
    before = await users_with_email(db, email)

    taken = await login(
        client, email=email.upper(), name="Mallory", provider="local", createOnly=True
    )
    assert_error(taken, 409, "ALREADY_EXISTS")
    assert "userId" not in taken.text
    assert await users_with_email(db, email) == before  # the empty name was not filled either


# --- disabled accounts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "disable",
    [
        "UPDATE users SET is_active = false, deleted_at = now() WHERE id = %s",  # soft delete
        "UPDATE users SET is_active = false WHERE id = %s",  # deactivated
    ],
)
async def test_a_disabled_account_is_refused_not_resurrected(
    client: AsyncTestClient[Litestar], db: Db, disable: str
) -> None:
    email = new_email()
    user_id = (await login(client, email=email, name="", provider="google")).json()["userId"]
    await db.execute(disable, (user_id,))
    before = await users_with_email(db, email)

    for create_only in (False, True):
        refused = await login(
            client, email=email, name="Back", provider="google", createOnly=create_only
        )
        assert_error(refused, 403, "FORBIDDEN")
        assert refused.json()["error"]["message"] == "account is disabled"
    assert await users_with_email(db, email) == before


async def test_nobody_signs_in_as_the_system_user(client: AsyncTestClient[Litestar]) -> None:
    refused = await login(client, email="SYSTEM@wealist.internal", name="x", provider="google")
    assert_error(refused, 403, "FORBIDDEN")


# --- bad input ---------------------------------------------------------------------------

VALID = {"email": "valid@example.com", "name": "Val", "provider": "google"}


@pytest.mark.parametrize(
    "change",
    [
        {"email": None},
        {"name": None},
        {"provider": None},
        {"email": ""},
        {"email": "   "},
        {"email": "no-at-sign.example.com"},
        {"email": "two@@example.com"},
        {"email": "a b@example.com"},
        {"email": "nodomain@"},
        {"email": "@example.com"},
        {"email": "dots..twice@example.com"},
        {"email": "user@localhost"},
        {"email": "user@-bad-.com"},
        {"email": "nul\u0000@example.com"},
        {"email": "x" * 65 + "@example.com"},
        {"email": "abc@" + ".".join(["b" * 60] * 4) + ".example"},  # 255 characters
        {"email": 42},
        {"name": "n" * 101},
        {"name": "nul\u0000byte"},
        {"name": "line\nbreak"},
        {"name": 7},
        {"provider": ""},
        {"provider": "Google"},
        {"provider": "p" * 33},
        {"provider": "bad provider"},
        {"createOnly": "yes"},
    ],
    ids=lambda change: repr(change)[:40],
)
async def test_invalid_bodies_are_400_and_write_nothing(
    client: AsyncTestClient[Litestar], db: Db, change: dict[str, Any]
) -> None:
    body = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    before = await count_users(db)
    assert_error(await client.post(LOGIN, json=body, headers=KEY), 400, "VALIDATION_ERROR")
    assert await count_users(db) == before


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[]", b'{"email": "a@example.com"', b'{"email": "\\ud800@example.com"}'],
    ids=repr,
)
async def test_unparseable_bodies_are_400(client: AsyncTestClient[Litestar], raw: bytes) -> None:
    response = await client.post(
        LOGIN, content=raw, headers={**KEY, "content-type": "application/json"}
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_limits_are_inclusive(client: AsyncTestClient[Litestar], db: Db) -> None:
    local = uuid.uuid4().hex + "x" * 32  # 64 characters
    domain = ".".join(["d" * 63, "e" * 63, "f" * 57]) + ".com"  # 254 with the local part
    email = f"{local}@{domain}"
    assert len(email) == 254
    response = await login(client, email=email, name="n" * 100, provider="p" * 32)
    assert response.status_code == 200, response.text
    assert (await users_with_email(db, email))[0][2] == "n" * 100


# --- the internal key --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"x-internal-api-key": "wrong"}], ids=["none", "wrong"])
async def test_the_internal_key_is_required(
    client: AsyncTestClient[Litestar], db: Db, headers: dict[str, str]
) -> None:
    email = new_email()
    body = {"email": email, "name": "Eve", "provider": "google"}
    assert_error(await client.post(LOGIN, json=body, headers=headers), 401, "UNAUTHORIZED")
    # even an invalid body gets 401 first: nothing is revealed without the key
    assert_error(await client.post(LOGIN, json={}, headers=headers), 401, "UNAUTHORIZED")
    assert await users_with_email(db, email) == []
