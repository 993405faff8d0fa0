"""Every chat route and both sockets crossed with {the chat's creator, a participant, a
workspace member outside the chat, an outsider, an admin of another workspace, anonymous}:
each cell's status is asserted, nobody outside workspace A sees its data, and every refused
write leaves what it would change as it was (each write row's ``state``, read through the
API as the creator or the participant). A message is its author's: on the participant's
own message the creator is refused too; a reaction is removed by whoever made it alone. A
route without a row fails ``test_every_route_has_a_row``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.authz.support import Users, in_process, user_service
from tests.chat.support import token_of
from tests.plugins.authz import (
    Case,
    Setup,
    State,
    api,
    at,
    check_case,
    check_routes_covered,
    stores_nothing,
)
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import ANONYMOUS, World, build_world

Client = AsyncTestClient[Litestar]
# owner: the chat's creator; member: a participant; admin: a member of the workspace who is
# not in the chat.
ACTORS = ("owner", "member", "admin", "outsider", "other_admin", "anonymous")

PARTICIPANTS = (200, 200, 403, 404, 404, 401)
MEMBERS = (200, 200, 200, 404, 404, 401)
ANYONE = (200, 200, 200, 200, 200, 401)
AUTHOR = (200, 403, 403, 404, 404, 401)
MEMBERS_OWN = (403, 200, 403, 404, 404, 401)  # the participant's message: theirs alone
NOBODY = (401,) * 6  # the internal key only


async def a_chat_with_a_message(clients: Any, world: World) -> Setup:
    chat, _, _ = clients
    created = await chat.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "GROUP",
            "chatName": "Alpha room",
            "participants": [world.member.user_id],
        },
        headers=world.owner.headers,
    )
    assert created.status_code == 201, created.text
    chat_id = created.json()["chatId"]
    sent = await chat.post(
        f"/api/chats/messages/{chat_id}",
        json={"content": "Alpha hello"},
        headers=world.owner.headers,
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["messageId"]
    for who in (world.owner, world.member):
        reacted = await chat.post(
            f"/api/chats/messages/{message_id}/reactions",
            json={"emoji": "ok"},
            headers=who.headers,
        )
        assert reacted.status_code == 200, reacted.text
    return Setup({"chat": chat_id, "message": message_id, "admin_user": world.admin.user_id})


async def with_a_members_message(clients: Any, world: World) -> Setup:
    """The chat, and a message of the participant (not the creator)."""
    setup = await a_chat_with_a_message(clients, world)
    sent = await clients[0].post(
        f"/api/chats/messages/{setup.values['chat']}",
        json={"content": "Alpha reply"},
        headers=world.member.headers,
    )
    assert sent.status_code == 201, sent.text
    setup.values["members_message"] = sent.json()["messageId"]
    return setup


def workspace_deleted(v: dict[str, str]) -> dict[str, Any]:
    """The user service's event deleting workspace A (its chats go with it)."""
    return {
        "id": str(uuid.uuid4()),
        "type": "workspace.deleted",
        "occurred_at": "2030-01-01T00:00:00Z",
        "payload": {"workspaceId": v["a"]},
    }


# The chat with its participants (and their read marks) and its messages and reactions, as
# the creator sees them; the participant's chats (every chat a row creates includes them).
CHAT: State = api("/api/chats/{chat}", "/api/chats/messages/{chat}")
CHATS_OF_MEMBER: State = api("/api/chats/my", by="member")


async def only_their_own_reaction(
    clients: Any, world: World, setup: Setup, name: str, response: httpx.Response
) -> None:
    """Removing "ok" takes away the remover's own reaction alone."""
    listed = await clients[0].get(
        f"/api/chats/messages/{setup.values['chat']}", headers=world.owner.headers
    )
    assert listed.status_code == 200, listed.text
    message = next(m for m in listed.json()["message"] if m["messageId"] == setup.values["message"])
    ok = next((r["userIds"] for r in message["reactions"] if r["emoji"] == "ok"), [])
    gone = set(ACTORS[: ACTORS.index(name) + 1])
    assert set(ok) == {world.owner.user_id, world.member.user_id} - {
        world.actors()[n].user_id for n in gone
    }, (name, ok)


def in_chat(
    method: str, route: str, expect: tuple[int, ...], path: str, body: Any = None, **kw: Any
) -> Case:
    kw.setdefault("prepare", a_chat_with_a_message)
    return Case(method, route, expect, at(path, body), **kw)


CASES = [
    Case(
        "POST",
        "/api/chats",
        (201, 201, 201, 404, 404, 401),
        at(
            "/api/chats",
            lambda v: {
                "workspaceId": v["a"],
                "chatType": "GROUP",
                "chatName": f"New by {v['actor']}",
                "participants": [v["member_user"]],
            },
        ),
        state=CHATS_OF_MEMBER,
    ),
    Case("GET", "/api/chats/my", ANYONE, at("/api/chats/my")),
    Case("GET", "/api/chats/workspace/{workspaceId}", MEMBERS, at("/api/chats/workspace/{a}")),
    in_chat("GET", "/api/chats/{chatId}", PARTICIPANTS, "/api/chats/{chat}"),
    in_chat(
        "DELETE",
        "/api/chats/{chatId}",
        (204, 403, 403, 404, 404, 401),
        "/api/chats/{chat}",
        fresh=True,
        state=CHAT,
    ),
    in_chat(
        "POST",
        "/api/chats/{chatId}/participants",
        PARTICIPANTS,
        "/api/chats/{chat}/participants",
        lambda v: {"userIds": [v["admin_user"]]},
        fresh=True,
        state=CHAT,
    ),
    in_chat(
        "DELETE",
        "/api/chats/{chatId}/participants/{userId}",
        (204, 204, 403, 404, 404, 401),
        "/api/chats/{chat}/participants/{member_user}",
        fresh=True,
        state=CHAT,
    ),
    in_chat("GET", "/api/chats/messages/search", ANYONE, "/api/chats/messages/search?q=Alpha"),
    in_chat(
        "POST",
        "/api/chats/messages/read",
        (200, 200, 404, 404, 404, 401),
        "/api/chats/messages/read",
        lambda v: {"messageIds": [v["message"]]},
        state=CHAT,
    ),
    in_chat("GET", "/api/chats/messages/{chatId}", PARTICIPANTS, "/api/chats/messages/{chat}"),
    in_chat(
        "POST",
        "/api/chats/messages/{chatId}",
        (201, 201, 403, 404, 404, 401),
        "/api/chats/messages/{chat}",
        lambda v: {"content": f"more from {v['actor']}"},
        state=CHAT,
    ),
    in_chat(
        "PUT",
        "/api/chats/messages/{chatId}",
        AUTHOR,
        "/api/chats/messages/{message}",
        lambda v: {"content": f"edited by {v['actor']}"},
        state=CHAT,
    ),
    in_chat(
        "PUT",
        "/api/chats/messages/{chatId}",
        MEMBERS_OWN,
        "/api/chats/messages/{members_message}",
        lambda v: {"content": f"edited by {v['actor']}"},
        prepare=with_a_members_message,
        state=CHAT,
        note="the participant's",
    ),
    in_chat(
        "DELETE",
        "/api/chats/messages/{chatId}",
        (204, 403, 403, 404, 404, 401),
        "/api/chats/messages/{message}",
        fresh=True,
        state=CHAT,
    ),
    in_chat(
        "DELETE",
        "/api/chats/messages/{chatId}",
        (403, 204, 403, 404, 404, 401),
        "/api/chats/messages/{members_message}",
        prepare=with_a_members_message,
        fresh=True,
        state=CHAT,
        note="the participant's",
    ),
    in_chat(
        "POST",
        "/api/chats/messages/{chatId}/reactions",
        PARTICIPANTS,
        "/api/chats/messages/{message}/reactions",
        {"emoji": "🎉"},
        state=CHAT,
    ),
    in_chat(
        "DELETE",
        "/api/chats/messages/{chatId}/reactions/{emoji}",
        (204, 204, 403, 404, 404, 401),
        "/api/chats/messages/{message}/reactions/ok",
        state=CHAT,
        after=only_their_own_reaction,
    ),
    in_chat(
        "GET",
        "/api/chats/messages/{chatId}/unread",
        PARTICIPANTS,
        "/api/chats/messages/{chat}/unread",
    ),
    in_chat(
        "PUT",
        "/api/chats/messages/{chatId}/last-read",
        PARTICIPANTS,
        "/api/chats/messages/{chat}/last-read",
        state=CHAT,
    ),
    Case(
        "GET",
        "/api/chats/presence/online",
        MEMBERS,
        at("/api/chats/presence/online?workspaceId={a}"),
    ),
    Case(
        "GET",
        "/api/chats/presence/status/{userId}",
        MEMBERS,
        at("/api/chats/presence/status/{owner}?workspaceId={a}"),
    ),
    # The kernel's health routes, also under the service's base path (contract 2.6).
    *(
        Case("GET", f"/api/chats/health{tail}", (200,) * 6, at(f"/api/chats/health{tail}"))
        for tail in ("", "/live", "/ready")
    ),
    in_chat(  # the user service's events (core.events): a user's token cannot delete A
        "POST",
        "/api/internal/events/chat",
        NOBODY,
        "/api/internal/events/chat",
        workspace_deleted,
        state=CHAT,
    ),
    # No blob store in this app: members hear 503, everyone else never gets that far.
    Case(
        "POST",
        "/api/chats/files/presigned-url",
        (503, 503, 503, 404, 404, 401),
        at(
            "/api/chats/files/presigned-url",
            lambda v: {
                "workspaceId": v["a"],
                "fileName": "a.png",
                "contentType": "image/png",
                "fileSize": 10,
            },
        ),
        state=stores_nothing("a presigned URL is signed, not stored"),
    ),
]


@pytest.fixture(scope="module")
async def users(environment: Environment, tmp_path_factory: pytest.TempPathFactory) -> Users:
    async with user_service(environment, tmp_path_factory) as client:
        yield client


@pytest.fixture(scope="module")
async def chat(environment: Environment, users: httpx.AsyncClient) -> AsyncIterator[Client]:
    async with in_process(environment, "chat", user_service_url=str(users.base_url)) as opened:
        yield opened


async def test_every_route_has_a_row(chat: Client) -> None:
    check_routes_covered(chat.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(chat: Client, users: Any, issuer: TokenIssuer, case: Case) -> None:
    await check_case(
        chat,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(users, issuer),
        clients=(chat, users, issuer),
    )


async def _opens(url: str) -> bool:
    try:
        async with connect(url, open_timeout=10) as ws:
            await ws.send('{"type":"ping"}')
            while '"pong"' not in await ws.recv():  # a presence socket sends statuses first
                pass
            return True
    except InvalidStatus:
        return False


@pytest.mark.slow
async def test_sockets(chat: Client, chat_process: Any, world: World) -> None:
    setup = await a_chat_with_a_message((chat, None, None), world)
    proc = await chat_process()
    actors = {name: world.actors()[name] for name in ACTORS}
    chat_socket = f"{proc.ws_url}/api/chats/ws/{setup.values['chat']}"
    presence = f"{proc.ws_url}/api/chats/ws/presence?workspaceId={world.a}"
    got = {}
    for name, actor in actors.items():
        token = "" if actor is ANONYMOUS else token_of(actor)
        got[name] = (
            await _opens(f"{chat_socket}?token={token}"),
            await _opens(f"{presence}&token={token}"),
        )
    assert got == {
        "owner": (True, True),
        "member": (True, True),
        "admin": (False, True),
        "outsider": (False, False),
        "other_admin": (False, False),
        "anonymous": (False, False),
    }
