"""Helpers shared by the user service tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from tests.plugins.harness import INTERNAL_KEY, TokenIssuer

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


# --- people and workspaces --------------------------------------------------------------


@dataclass
class Actor:
    """A signed-up user with a valid access token."""

    name: str
    user_id: str
    email: str
    headers: dict[str, str]

    def bearer(self, **extra: str) -> dict[str, str]:
        return {**self.headers, **extra}


ANONYMOUS = Actor("anonymous", "", "", {})


async def sign_up(client: Any, issuer: TokenIssuer, tag: str, *, name: str = "") -> Actor:
    """A user created the way sign-in creates them, with an access token of the issuer."""
    email = new_email(tag)
    response = await client.post(
        LOGIN, json={"email": email, "name": name or tag.title(), "provider": "google"}, headers=KEY
    )
    assert response.status_code == 200, response.text
    user_id = response.json()["userId"]
    token = issuer.token(user_id)
    return Actor(tag, user_id, email, {"Authorization": f"Bearer {token}"})


async def create_workspace(client: Any, owner: Actor, name: str = "", **fields: Any) -> str:
    body = {"workspaceName": name or f"ws-{uuid.uuid4().hex[:8]}", **fields}
    response = await client.post("/api/workspaces/create", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    workspace_id: str = response.json()["workspaceId"]
    return workspace_id


async def invite(
    client: Any, by: Actor, workspace_id: str, who: Actor, role: str = "MEMBER"
) -> Any:
    return await client.post(
        f"/api/workspaces/{workspace_id}/members/invite",
        json={"email": who.email, "roleName": role},
        headers=by.headers,
    )


async def member_id_of(client: Any, by: Actor, workspace_id: str, who: Actor) -> str:
    listed = await client.get(f"/api/workspaces/{workspace_id}/members", headers=by.headers)
    assert listed.status_code == 200, listed.text
    return next(m["workspaceMemberId"] for m in listed.json() if m["userId"] == who.user_id)


@dataclass
class World:
    """Workspace A (owner, admin, member) and workspace B (its admin); an outsider."""

    owner: Actor
    admin: Actor
    member: Actor
    outsider: Actor  # signed in, in no workspace
    other_admin: Actor  # ADMIN of workspace B only
    other_owner: Actor
    a: str
    b: str

    def actors(self) -> dict[str, Actor]:
        return {
            "owner": self.owner,
            "admin": self.admin,
            "member": self.member,
            "outsider": self.outsider,
            "other_admin": self.other_admin,
            "anonymous": ANONYMOUS,
        }


async def build_world(client: Any, issuer: TokenIssuer) -> World:
    owner, admin, member, outsider, other_admin, other_owner = [
        await sign_up(client, issuer, tag)
        for tag in ("owner", "admin", "member", "outsider", "otheradmin", "otherowner")
    ]
    a = await create_workspace(client, owner, "Alpha team")
    b = await create_workspace(client, other_owner, "Beta team")
    for by, ws, who, role in (
        (owner, a, admin, "ADMIN"),
        (owner, a, member, "MEMBER"),
        (other_owner, b, other_admin, "ADMIN"),
    ):
        response = await invite(client, by, ws, who, role)
        assert response.status_code == 201, response.text
    return World(owner, admin, member, outsider, other_admin, other_owner, a, b)
