"""Helpers of the ops tests: portal actors with tokens, the error envelope, paths."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.plugins.harness import TokenIssuer

BASE = "/api/ops/api"


def new_email(tag: str) -> str:
    """A fresh address: the ops database is shared by every test of a worker."""
    return f"{tag}-{uuid.uuid4().hex[:12]}@ops.example.com"


@dataclass
class Actor:
    """A wealist account (a user id and an email) with a valid access token."""

    name: str
    user_id: str
    email: str
    headers: dict[str, str]


ANONYMOUS = Actor("anonymous", "", "", {})


def actor(issuer: TokenIssuer, tag: str, email: str | None = None) -> Actor:
    user_id = str(uuid.uuid4())
    address = email or new_email(tag)
    token = issuer.token(user_id, email=address)
    return Actor(tag, user_id, address, {"Authorization": f"Bearer {token}"})


def assert_error(response: Any, status: int, code: str) -> None:
    """The ops envelope: ``{success: false, message, code, requestId}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) - {"details"} == {"success", "message", "code", "requestId"}, body
    assert body["success"] is False
    assert body["code"] == code, body
    assert body["message"]
    assert body["requestId"] == response.headers["x-request-id"]


@dataclass
class Portal:
    """An admin (from the settings), a PM and a viewer (invited), and a wealist user who
    is no portal user."""

    admin: Actor
    pm: Actor
    viewer: Actor
    outsider: Actor

    def actors(self) -> dict[str, Actor]:
        return {
            "admin": self.admin,
            "pm": self.pm,
            "viewer": self.viewer,
            "non_portal": self.outsider,
            "anonymous": ANONYMOUS,
        }


async def invite(client: Any, admin: Actor, who: Actor, role: str) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/admin/users/invite", json={"email": who.email, "role": role}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def build_portal(client: Any, issuer: TokenIssuer, admin_email: str) -> Portal:
    admin = actor(issuer, "admin", admin_email)
    pm, viewer, outsider = actor(issuer, "pm"), actor(issuer, "viewer"), actor(issuer, "nobody")
    await invite(client, admin, pm, "pm")
    await invite(client, admin, viewer, "viewer")
    return Portal(admin, pm, viewer, outsider)
