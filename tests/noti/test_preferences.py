"""Preferences: every type x channel, global or per workspace (members only), inherited
channel by channel, validated, and respected when notifications are created."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.noti.support import assert_error, create, person
from tests.plugins.harness import TokenIssuer
from tests.user.support import World, build_world
from wealist.noti.schemas import NOTIFICATION_TYPES

PATH = "/api/notifications/preferences"


def by_type(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["type"]: p for p in body["preferences"]}


async def test_defaults_show_every_type_in_the_app_and_none_by_email(noti, issuer) -> None:
    me = person(issuer)
    response = await noti.get(PATH, headers=me.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"workspaceId", "emailAddress", "preferences"}
    assert (body["workspaceId"], body["emailAddress"]) == (None, None)
    assert [p["type"] for p in body["preferences"]] == list(NOTIFICATION_TYPES)
    assert all(
        p
        == {**p, "inApp": True, "email": False, "inAppSource": "default", "emailSource": "default"}
        for p in body["preferences"]
    )


async def test_a_global_change_applies_and_remembers_the_tokens_address(noti, issuer) -> None:
    user_id = str(uuid.uuid4())
    token = issuer.token(user_id, email="ada@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    change = {"preferences": [{"type": "BOARD_UPDATED", "inApp": False, "email": True}]}
    response = await noti.put(PATH, json=change, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["emailAddress"] == "ada@example.com"
    assert by_type(body)["BOARD_UPDATED"] == {
        "type": "BOARD_UPDATED",
        "inApp": False,
        "email": True,
        "inAppSource": "global",
        "emailSource": "global",
    }
    assert by_type(body)["BOARD_ASSIGNED"]["inAppSource"] == "default"
    assert (await noti.get(PATH, headers=auth)).json() == body
    # An omitted channel stays; null goes back to the default.
    again = await noti.put(
        PATH, json={"preferences": [{"type": "BOARD_UPDATED", "inApp": None}]}, headers=auth
    )
    updated = by_type(again.json())["BOARD_UPDATED"]
    assert (updated["inApp"], updated["inAppSource"]) == (True, "default")
    assert (updated["email"], updated["emailSource"]) == (True, "global")


async def test_email_needs_an_address(noti, issuer) -> None:
    me = person(issuer)  # a token without an email claim
    change = {"preferences": [{"type": "BOARD_ASSIGNED", "email": True}]}
    assert_error(await noti.put(PATH, json=change, headers=me.auth), 400, "VALIDATION_ERROR")
    assert (
        by_type((await noti.get(PATH, headers=me.auth)).json())["BOARD_ASSIGNED"]["email"] is False
    )
    off = {"preferences": [{"type": "BOARD_ASSIGNED", "email": False, "inApp": False}]}
    assert (await noti.put(PATH, json=off, headers=me.auth)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": []},
        {"preferences": [{"type": "NOPE", "inApp": False}]},
        {"preferences": [{"type": "BOARD_ASSIGNED", "push": True}]},
        {"preferences": [{"type": "BOARD_ASSIGNED"}, {"type": "BOARD_ASSIGNED"}]},
        {"preferences": [{"type": "BOARD_ASSIGNED", "inApp": "no"}]},
        {"preferences": [{"type": "BOARD_ASSIGNED"}], "workspaceId": "nope"},
        {"preferences": [{"type": "BOARD_ASSIGNED"}], "colour": "red"},
    ],
    ids=[
        "empty",
        "unknown type",
        "unknown channel",
        "repeated type",
        "not a bool",
        "bad ws",
        "extra",
    ],
)
async def test_bad_changes_are_refused(noti, issuer, body: dict[str, Any]) -> None:
    me = person(issuer)
    assert_error(await noti.put(PATH, json=body, headers=me.auth), 400, "VALIDATION_ERROR")
    assert all(
        p["inAppSource"] == "default"
        for p in (await noti.get(PATH, headers=me.auth)).json()["preferences"]
    )


async def test_concurrent_changes_of_different_channels_both_win(noti, issuer) -> None:
    user_id = str(uuid.uuid4())
    auth = {"Authorization": f"Bearer {issuer.token(user_id, email='b@example.com')}"}
    in_app = {"preferences": [{"type": "COMMENT_ADDED", "inApp": False}]}
    email = {"preferences": [{"type": "COMMENT_ADDED", "email": True}]}
    for _ in range(5):
        replies = await asyncio.gather(
            noti.put(PATH, json=in_app, headers=auth), noti.put(PATH, json=email, headers=auth)
        )
        assert [r.status_code for r in replies] == [200, 200]
    final = by_type((await noti.get(PATH, headers=auth)).json())["COMMENT_ADDED"]
    assert (final["inApp"], final["email"]) == (False, True)


async def test_in_app_off_keeps_a_type_out_of_the_app(noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    off = {"preferences": [{"type": "BOARD_UPDATED", "inApp": False}]}
    assert (await noti.put(PATH, json=off, headers=me.auth)).status_code == 200
    hidden = await create(noti, me.user_id, workspace, kind="BOARD_UPDATED")
    shown = await create(noti, me.user_id, workspace, kind="BOARD_ASSIGNED")
    assert (hidden["seq"], shown["seq"]) == (None, 1)
    listed = (await noti.get("/api/notifications", headers=me.at(workspace))).json()
    assert [n["id"] for n in listed["notifications"]] == [shown["id"]]


# --- per workspace (membership from the user service) -----------------------------------


@pytest.fixture
async def users(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    proc = await service_process("user")
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        yield client


@pytest.fixture
async def noti_with_users(
    app_client: Callable[..., Any], users: httpx.AsyncClient
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with app_client("noti", user_service_url=str(users.base_url)) as opened:
        yield opened


async def test_a_workspace_scope_overrides_global_for_members_only(
    noti_with_users, users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    world: World = await build_world(users, issuer)
    noti, member = noti_with_users, world.member
    everywhere = {"preferences": [{"type": "BOARD_ASSIGNED", "inApp": False}]}
    assert (await noti.put(PATH, json=everywhere, headers=member.headers)).status_code == 200
    here = {"workspaceId": world.a, "preferences": [{"type": "BOARD_ASSIGNED", "inApp": True}]}
    response = await noti.put(PATH, json=here, headers=member.headers)
    assert response.status_code == 200, response.text
    assert response.json()["workspaceId"] == world.a
    assigned = by_type(response.json())["BOARD_ASSIGNED"]
    assert (assigned["inApp"], assigned["inAppSource"]) == (True, "workspace")
    scoped = await noti.get(f"{PATH}?workspaceId={world.a}", headers=member.headers)
    assert scoped.json() == response.json()
    # Notifications follow: shown in workspace A, hidden elsewhere.
    in_a = await create(noti, member.user_id, world.a)
    elsewhere = await create(noti, member.user_id, str(uuid.uuid4()))
    assert in_a["seq"] is not None and elsewhere["seq"] is None
    # Outsiders of A cannot read or set A's scope: 404, and nothing of A in the answer.
    for who in (world.outsider, world.other_admin):
        for reply in (
            await noti.put(PATH, json=here, headers=who.headers),
            await noti.get(f"{PATH}?workspaceId={world.a}", headers=who.headers),
        ):
            assert_error(reply, 404, "NOT_FOUND")
            assert "Alpha team" not in reply.text
