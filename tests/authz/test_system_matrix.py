"""T26 across the system: every operation of every service's OpenAPI document, and every
WebSocket route it serves, is claimed by a row of that service's authorization matrix
(``tests/<svc>/test_authorization_matrix.py``: ``CASES`` or ``ROWS``, and ``SOCKETS``
when it has them; the socket rows below stand in for matrices whose sockets are tested
elsewhere), and no row names a route the service does not serve. Every socket refuses
anonymous callers, a bad token and members of another workspace, checked against one real
``wealist serve all`` process.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.authz.support import running
from tests.plugins.authz import KERNEL_ROUTES, SocketCase
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import Actor, World, build_world
from wealist.core.app import build_app
from wealist.services import SERVICES, spec

METHODS = {"get", "put", "post", "delete", "patch"}

# Sockets whose matrix rows live elsewhere: who may open them (the full rows run in the
# tests named), and here against one process for every actor below.
SOCKET_ACTORS = ("owner", "member", "outsider", "other_admin", "anonymous")
SOCKETS: dict[str, list[SocketCase]] = {
    "board": [
        SocketCase(
            "/ws/project/{projectId}",
            dict(zip(SOCKET_ACTORS, (True, True, False, False, False), strict=True)),
            "tests/board/test_live.py::test_project_and_workspace_members_may_follow_a_project"
            "_and_nobody_else",
        )
    ],
    "chat": [
        SocketCase(  # the member of A is not in the chat
            "/api/chats/ws/{chatId}",
            dict(zip(SOCKET_ACTORS, (True, False, False, False, False), strict=True)),
            "tests/chat/test_authorization_matrix.py::test_sockets",
        ),
        SocketCase(
            "/api/chats/ws/presence",
            dict(zip(SOCKET_ACTORS, (True, True, False, False, False), strict=True)),
            "tests/chat/test_authorization_matrix.py::test_sockets",
        ),
    ],
}


def matrix_of(name: str) -> Any:
    return import_module(f"tests.{name}.test_authorization_matrix")


def rows_of(name: str) -> dict[str, str]:
    """Every row claiming a route of the service: id -> where it is."""
    module = matrix_of(name)
    where = f"tests/{name}/test_authorization_matrix.py"
    # ROWS: every HTTP row, where a matrix runs some apart from CASES (noti's stream)
    found = {case.id: where for case in getattr(module, "ROWS", module.CASES)}
    found |= {row.id: where for row in getattr(module, "SOCKETS", [])}
    found |= {row.id: row.where or __file__ for row in SOCKETS.get(name, [])}
    return found


def build(environment: Environment, name: str, tmp: Path) -> Litestar:
    """The service's app as its matrix runs it (storage: the local blob store, whose
    signed-URL routes are rows too)."""
    overrides: dict[str, Any] = {}
    if name == "storage":
        overrides = {"blob_dir": str(tmp / "blobs"), "blob_secret": "s" * 32}
    return build_app(spec(name), environment.settings(name, **overrides), configure_logs=False)


def operations(app: Litestar) -> set[str]:
    """The OpenAPI document's operations, ``METHOD /path``."""
    document = app.openapi_schema.to_schema()
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def sockets(app: Litestar) -> set[str]:
    return {f"WS {r.path_format}" for r in app.routes if isinstance(r, WebSocketRoute)}


def served(app: Litestar) -> set[str]:
    found = sockets(app)
    for route in app.routes:
        if isinstance(route, HTTPRoute) and not route.path_format.startswith(KERNEL_ROUTES):
            found |= {f"{m} {route.path_format}" for m in route.methods - {"OPTIONS", "HEAD"}}
    return found


def problems(name: str, required: set[str], exists: set[str], rows: dict[str, str]) -> str:
    """What is wrong between a service's routes and its matrix rows ("" when nothing)."""
    out = []
    unclaimed = sorted(required - set(rows))
    if unclaimed:
        out.append(
            f"{name}: {len(unclaimed)} route(s) without an authorization-matrix row; add a "
            f"Case (a SocketCase in SOCKETS for a WebSocket route) to "
            f"tests/{name}/test_authorization_matrix.py with one expected status per actor:\n"
            + "\n".join(f"  {route}" for route in unclaimed)
        )
    phantom = sorted(set(rows) - exists)
    if phantom:
        out.append(
            f"{name}: {len(phantom)} row(s) name a route the service does not serve:\n"
            + "\n".join(f"  {route}  ({rows[route]})" for route in phantom)
        )
    return "\n".join(out)


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_operation_and_socket_has_a_matrix_row(
    environment: Environment, tmp_path: Path, name: str
) -> None:
    app = build(environment, name, tmp_path)
    required = operations(app) | sockets(app)
    assert required, name  # the document was read
    exists = served(app)
    assert required <= exists, sorted(required - exists)  # the document lists served routes
    assert not (report := problems(name, required, exists, rows_of(name))), report


def test_a_route_without_a_row_is_named_with_where_to_add_it() -> None:
    """The check itself: what CI prints when a route is added without a row, or a row
    outlives its route."""
    rows = {"GET /api/things": "tests/x/test_authorization_matrix.py", "WS /gone": "here"}
    required = {"GET /api/things", "POST /api/things", "WS /ws/things/{id}"}
    report = problems("x", required, required, rows)
    assert "x: 2 route(s) without an authorization-matrix row" in report
    assert "tests/x/test_authorization_matrix.py" in report
    assert "  POST /api/things\n  WS /ws/things/{id}" in report
    assert "x: 1 row(s) name a route the service does not serve:\n  WS /gone  (here)" in report
    assert problems("x", required, required, dict.fromkeys(required, "m")) == ""


def test_socket_rows_name_every_actor_and_refuse_outsiders() -> None:
    for rows in SOCKETS.values():
        for row in rows:
            assert tuple(row.opens) == SOCKET_ACTORS, row.id
            assert not any(row.opens[a] for a in ("outsider", "other_admin", "anonymous"))


# --- the sockets, against one process of every service -----------------------------------


async def hello_board(ws: ClientConnection) -> None:
    frame = json.loads(await ws.recv())
    assert frame["type"] == "connected", frame


async def hello_chat(ws: ClientConnection) -> None:
    await ws.send('{"type":"ping"}')
    while '"pong"' not in str(await ws.recv()):  # presence sends statuses first
        pass


# route -> (the URL's path and query, formatted with the scene; the exchange that proves
# the socket is open)
PROBES: dict[str, tuple[str, Callable[[ClientConnection], Awaitable[None]]]] = {
    "WS /ws/project/{projectId}": ("/ws/project/{project}", hello_board),
    "WS /api/chats/ws/{chatId}": ("/api/chats/ws/{chat}", hello_chat),
    "WS /api/chats/ws/presence": ("/api/chats/ws/presence?workspaceId={a}", hello_chat),
}


async def opens(url: str, hello: Callable[[ClientConnection], Awaitable[None]]) -> bool:
    """Accepted and answering (refused at the handshake, or closed at once: False)."""
    try:
        async with connect(url, open_timeout=10, close_timeout=2) as ws:
            await hello(ws)
            return True
    except (InvalidStatus, ConnectionClosed):
        return False


@pytest.fixture(scope="module")
async def stack(
    environment: Environment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    # sockets re-check their access every second (chat: each heartbeat; board: TTL / 3)
    env = {"WEALIST_CHAT_WS_HEARTBEAT_S": "1", "WEALIST_BOARD_ONLINE_TTL_S": "3"}
    async with running(environment, "all", tmp_path_factory.mktemp("authz-stack"), **env) as proc:
        yield proc.url


async def scene(http: httpx.AsyncClient, world: World) -> dict[str, str]:
    """A project and a chat of A's owner (the admin in the chat, the member not)."""
    owner = world.owner.headers
    project = await http.post(
        "/api/projects", json={"workspaceId": world.a, "name": "Alpha plan"}, headers=owner
    )
    assert project.status_code == 201, project.text
    chat = await http.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "GROUP",
            "chatName": "Alpha room",
            "participants": [world.admin.user_id],
        },
        headers=owner,
    )
    assert chat.status_code == 201, chat.text
    return {
        "a": world.a,
        "project": project.json()["data"]["projectId"],
        "chat": chat.json()["chatId"],
    }


@pytest.mark.slow
async def test_every_socket_refuses_anonymous_a_bad_token_and_other_workspaces(
    stack: str, environment: Environment, tmp_path: Path, issuer: TokenIssuer
) -> None:
    routes = {r for name in SERVICES for r in sockets(build(environment, name, tmp_path))}
    rows = {row.id: row for found in SOCKETS.values() for row in found}
    for name in SERVICES:  # a matrix's own socket rows count as well
        rows |= {row.id: row for row in getattr(matrix_of(name), "SOCKETS", [])}
    assert routes == set(PROBES) == set(rows), "add the socket to PROBES and SOCKETS"
    async with httpx.AsyncClient(base_url=stack, timeout=30) as http:
        world = await build_world(http, issuer)
        values = await scene(http, world)
    actors: dict[str, Actor] = world.actors()
    ws_base = stack.replace("http://", "ws://", 1)
    got: dict[str, dict[str, bool]] = {}
    for route, (path, hello) in PROBES.items():
        url = ws_base + path.format(**values)
        sep = "&" if "?" in url else "?"
        got[route] = {}
        for name in SOCKET_ACTORS:
            token = actors[name].headers.get("Authorization", "").removeprefix("Bearer ")
            got[route][name] = await opens(f"{url}{sep}token={token}", hello)
        assert not await opens(f"{url}{sep}token=not-a-token", hello), route
    assert got == {route: dict(rows[route].opens) for route in PROBES}


@pytest.mark.slow
async def test_a_participant_removed_from_a_chat_hears_nothing_more_of_it(
    stack: str, issuer: TokenIssuer
) -> None:
    """T26: removal takes effect on an open socket: ``USER_LEFT`` for its user is the last
    frame it gets, then it closes with 4403; a message sent after the removal never
    reaches it (the owner's socket, the control, gets it)."""
    async with httpx.AsyncClient(base_url=stack, timeout=30) as http:
        world = await build_world(http, issuer)
        values = await scene(http, world)
        chat = values["chat"]
        url = stack.replace("http://", "ws://", 1) + f"/api/chats/ws/{chat}?token="

        def token(who: Actor) -> str:
            return who.headers["Authorization"].removeprefix("Bearer ")

        async with (
            connect(url + token(world.owner), open_timeout=10) as owner_ws,
            connect(url + token(world.admin), open_timeout=10) as admin_ws,
        ):
            for ws in (owner_ws, admin_ws):
                await hello_chat(ws)
            removed = await http.delete(
                f"/api/chats/{chat}/participants/{world.admin.user_id}",
                headers=world.owner.headers,
            )
            assert removed.status_code == 204, removed.text
            sent = await http.post(
                f"/api/chats/messages/{chat}",
                json={"content": "after the removal"},
                headers=world.owner.headers,
            )
            assert sent.status_code == 201, sent.text

            async def frames_until(ws: ClientConnection, done: Callable[[str], bool]) -> list[str]:
                seen: list[str] = []
                try:
                    while not seen or not done(seen[-1]):
                        seen.append(str(await asyncio.wait_for(ws.recv(), 20)))
                except (ConnectionClosed, TimeoutError):  # closed, or still open after 20 s
                    pass
                return seen

            owner_saw = await frames_until(owner_ws, lambda f: "after the removal" in f)
            admin_saw = await frames_until(admin_ws, lambda f: False)  # until it closes
            assert any("after the removal" in f for f in owner_saw), owner_saw
            assert not any("after the removal" in f for f in admin_saw), admin_saw
            assert admin_ws.close_code == 4403, admin_saw
    assert any('"USER_LEFT"' in f and world.admin.user_id in f for f in admin_saw), admin_saw


REMOVAL_CLOSES_WITHIN_S = 5.0  # T26


@pytest.mark.slow
async def test_a_member_removed_from_the_workspace_loses_its_open_sockets_at_once(
    environment: Environment, tmp_path: Path, issuer: TokenIssuer
) -> None:
    """T26: A's admin follows a project, is in a chat of A and follows A's presence; once
    removed from A, all three sockets close with 4403 within 5 s - with the default
    heartbeats and access-check periods (25-30 s), so it is the user service's signal that
    closes them - while the owner's stay open."""
    async with (
        running(environment, "all", tmp_path) as proc,
        httpx.AsyncClient(base_url=proc.url, timeout=30) as http,
    ):
        world = await build_world(http, issuer)
        values = await scene(http, world)
        base = proc.url.replace("http://", "ws://", 1)
        paths = {
            "board": "/ws/project/{project}",
            "chat": "/api/chats/ws/{chat}",
            "presence": "/api/chats/ws/presence?workspaceId={a}",
        }
        hellos = {"board": hello_board, "chat": hello_chat, "presence": hello_chat}

        def url(kind: str, who: Actor) -> str:
            token = who.headers["Authorization"].removeprefix("Bearer ")
            path = paths[kind].format(**values)
            return f"{base}{path}{'&' if '?' in path else '?'}token={token}"

        async with AsyncExitStack() as stack_of_sockets:
            opened = {}
            for kind in paths:
                for who in (world.owner, world.admin):
                    ws = await stack_of_sockets.enter_async_context(connect(url(kind, who)))
                    await hellos[kind](ws)
                    opened[kind, who.name] = ws
            listed = await http.get(
                f"/api/workspaces/{world.a}/members", headers=world.owner.headers
            )
            member_id = next(
                m["workspaceMemberId"] for m in listed.json() if m["userId"] == world.admin.user_id
            )
            removed = await http.delete(
                f"/api/workspaces/{world.a}/members/{member_id}", headers=world.owner.headers
            )
            assert removed.status_code == 200, removed.text

            removed_at = asyncio.get_running_loop().time()

            async def closed_with(ws: ClientConnection) -> int | None:
                try:
                    async with asyncio.timeout_at(removed_at + REMOVAL_CLOSES_WITHIN_S):
                        while True:
                            await ws.recv()
                except ConnectionClosed:
                    return ws.close_code
                except TimeoutError:
                    return None

            codes = {kind: await closed_with(opened[kind, "admin"]) for kind in paths}
            assert codes == {"board": 4403, "chat": 4403, "presence": 4403}
            await hello_chat(opened["chat", "owner"])  # the control: the owner's still answer
            await hello_chat(opened["presence", "owner"])
            assert opened["board", "owner"].close_code is None
