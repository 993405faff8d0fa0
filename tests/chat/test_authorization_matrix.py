"""Every chat route and both sockets crossed with {the chat's creator, a participant, a
workspace member outside the chat, an outsider, an admin of another workspace, anonymous}:
each cell's status is asserted, and nobody outside workspace A sees its data. A route
without a row fails ``test_every_route_has_a_row``."""

from __future__ import annotations

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
from tests.plugins.authz import Case, Setup, at, check_case, check_routes_covered
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
    return Setup({"chat": chat_id, "message": message_id})


def in_chat(
    method: str, route: str, expect: tuple[int, ...], path: str, body: Any = None, **kw: Any
) -> Case:
    return Case(method, route, expect, at(path, body), prepare=a_chat_with_a_message, **kw)


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
                "chatName": "New",
                "participants": [v["member_user"]],
            },
        ),
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
    ),
    in_chat(
        "POST",
        "/api/chats/{chatId}/participants",
        PARTICIPANTS,
        "/api/chats/{chat}/participants",
        lambda v: {"userIds": [v["member_user"]]},
        fresh=True,
    ),
    in_chat(
        "DELETE",
        "/api/chats/{chatId}/participants/{userId}",
        (204, 204, 403, 404, 404, 401),
        "/api/chats/{chat}/participants/{member_user}",
        fresh=True,
    ),
    in_chat("GET", "/api/chats/messages/search", ANYONE, "/api/chats/messages/search?q=Alpha"),
    in_chat(
        "POST",
        "/api/chats/messages/read",
        (200, 200, 404, 404, 404, 401),
        "/api/chats/messages/read",
        lambda v: {"messageIds": [v["message"]]},
    ),
    in_chat("GET", "/api/chats/messages/{chatId}", PARTICIPANTS, "/api/chats/messages/{chat}"),
    in_chat(
        "POST",
        "/api/chats/messages/{chatId}",
        (201, 201, 403, 404, 404, 401),
        "/api/chats/messages/{chat}",
        {"content": "more"},
    ),
    in_chat(
        "PUT",
        "/api/chats/messages/{chatId}",
        AUTHOR,
        "/api/chats/messages/{message}",
        {"content": "edited"},
    ),
    in_chat(
        "DELETE",
        "/api/chats/messages/{chatId}",
        (204, 403, 403, 404, 404, 401),
        "/api/chats/messages/{message}",
        fresh=True,
    ),
    in_chat(
        "POST",
        "/api/chats/messages/{chatId}/reactions",
        PARTICIPANTS,
        "/api/chats/messages/{message}/reactions",
        {"emoji": "🎉"},
    ),
    in_chat(
        "DELETE",
        "/api/chats/messages/{chatId}/reactions/{emoji}",
        (204, 204, 403, 404, 404, 401),
        "/api/chats/messages/{message}/reactions/ok",
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
    Case(  # the user service's events (core.events)
        "POST",
        "/api/internal/events/chat",
        NOBODY,
        at("/api/internal/events/chat", {"id": "x", "type": "workspace.deleted"}),
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


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
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
