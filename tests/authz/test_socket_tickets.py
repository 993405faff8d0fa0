"""T30: sockets and SSE streams open with a single-use ``?ticket=`` from
``POST /api/auth/socket-ticket``, so no access token has to travel in a URL; with
``socket_query_token`` off, ``?token=`` is refused everywhere."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.authz.support import running
from tests.authz.test_system_matrix import hello_board, hello_chat, scene
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import Actor, build_world

pytestmark = pytest.mark.slow


async def ticket_for(http: httpx.AsyncClient, who: Actor) -> str:
    answer = await http.post("/api/auth/socket-ticket", headers=who.headers)
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["expiresIn"] == 30
    ticket: str = body["ticket"]
    return ticket


async def test_tickets_open_sockets_and_streams_once_and_tokens_in_urls_can_be_refused(
    environment: Environment, tmp_path: Path, issuer: TokenIssuer
) -> None:
    async with (
        running(environment, "all", tmp_path, WEALIST_SOCKET_QUERY_TOKEN="false") as proc,
        httpx.AsyncClient(base_url=proc.url, timeout=30) as http,
    ):
        world = await build_world(http, issuer)
        values = await scene(http, world)
        base = proc.url.replace("http://", "ws://", 1)
        sockets = {
            f"/ws/project/{values['project']}?": hello_board,
            f"/api/chats/ws/{values['chat']}?": hello_chat,
            f"/api/chats/ws/presence?workspaceId={values['a']}&": hello_chat,
        }
        token = world.owner.headers["Authorization"].removeprefix("Bearer ")
        for path, hello in sockets.items():
            ticket = await ticket_for(http, world.owner)
            async with connect(f"{base}{path}ticket={ticket}", open_timeout=10) as ws:
                await hello(ws)
            for refused in (f"ticket={ticket}", f"token={token}", "ticket=forged"):
                with pytest.raises(InvalidStatus):  # used, a token in the URL, unknown
                    async with connect(f"{base}{path}{refused}", open_timeout=10):
                        pass
        stream = "/api/notifications/stream"
        ticket = await ticket_for(http, world.owner)
        async with http.stream("GET", stream, params={"ticket": ticket}) as opened:
            assert opened.status_code == 200
            assert opened.headers["content-type"].startswith("text/event-stream")
        for refused in ({"ticket": ticket}, {"token": token}):
            answer = await http.get(stream, params=refused)
            assert answer.status_code == 401, answer.text
        async with http.stream("GET", stream, headers=world.owner.headers) as opened:
            assert opened.status_code == 200  # the header still works
        assert (await http.post("/api/auth/socket-ticket")).status_code == 401
