"""Every noti route crossed with {owner, admin and member of workspace A, an outsider, an
admin of workspace B, anonymous, the internal key without a user token}: each cell's
status is asserted.

Policy: a notification is its target user's alone. The world holds notification N of A's
member; for anyone else it does not exist (404 on its id), and no response to anyone else
carries its id or text, not even to the owner of its workspace. Lists and counts are the
caller's own (200 for anyone signed in, empty for an outsider), so an outsider naming A in
``X-Workspace-Id`` learns nothing; a preference scoped to a workspace needs membership
(404). Internal routes take the internal key and refuse every user token (401); user
routes refuse the internal key (401). A refused change leaves N as it was, and every
refused write what it would change (each write row's ``state``: N and the member's list
as the member reads them, or the preferences of A's people). The SSE stream
row runs against a real ``wealist serve noti`` process, which also shows that a live
notification reaches its target's stream and nobody else's. A route without a row fails
``test_every_route_has_a_row``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.authz.support import Users, in_process, running, user_service
from tests.noti.support import KEY, SseReader, create, envelope, event_body
from tests.plugins.authz import (
    Case,
    Setup,
    Stage,
    State,
    api,
    at,
    check_case,
    check_routes_covered,
)
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import Actor, World, build_world

Client = AsyncTestClient[Litestar]
ACTORS = ("owner", "admin", "member", "outsider", "other_admin", "anonymous", "internal_key")
INTERNAL = Actor("internal_key", "", "", dict(KEY))

OWN = (200, 200, 200, 200, 200, 401, 401)  # the caller's own: anyone signed in
TARGET = (404, 404, 200, 404, 404, 401, 401)  # N itself: its target only
SCOPED = (200, 200, 200, 404, 404, 401, 401)  # a workspace scope: members of A
SERVICE = (401, 401, 401, 401, 401, 401, 201)  # the internal key only


@dataclass
class NotiWorld(World):
    def actors(self) -> dict[str, Actor]:
        return {**super().actors(), "internal_key": INTERNAL}


async def new_world(users: httpx.AsyncClient, issuer: TokenIssuer) -> NotiWorld:
    return NotiWorld(**vars(await build_world(users, issuer)))


@pytest.fixture(scope="module")
async def users(environment: Environment, tmp_path_factory: pytest.TempPathFactory) -> Users:
    async with user_service(environment, tmp_path_factory) as client:
        yield client


@pytest.fixture(scope="module")
async def matrix_noti(environment: Environment, users: httpx.AsyncClient) -> AsyncIterator[Client]:
    async with in_process(environment, "noti", user_service_url=str(users.base_url)) as opened:
        yield opened


@pytest.fixture(scope="module")
async def noti_process(
    environment: Environment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A real ``wealist serve noti`` (streams need a real server), pinging every 0.3 s."""
    log_dir = tmp_path_factory.mktemp("noti-stream")
    async with (
        running(environment, "noti", log_dir, WEALIST_NOTI_SSE_PING_S="0.3") as proc,
        httpx.AsyncClient(base_url=proc.url, timeout=10) as client,
    ):
        yield client


async def a_notification(clients: Any, world: World) -> Setup:
    """N: an unread notification of A's member, whose text nobody else may read."""
    noti = clients[0]
    name = f"Alpha secret {uuid.uuid4().hex[:8]}"
    made = await create(noti, world.member.user_id, world.a, name=name)
    member = frozenset({"member"})
    return Setup({"n": made["id"]}, private={made["id"]: member, name: member})


async def state_of_n(noti: Any, world: World, setup: Setup) -> dict[str, Any] | None:
    """N as its target lists it (None: gone)."""
    listed = await noti.get(
        "/api/notifications?limit=100", headers={**world.member.headers, "X-Workspace-Id": world.a}
    )
    assert listed.status_code == 200, listed.text
    found = [n for n in listed.json()["notifications"] if n["id"] == setup.values["n"]]
    return found[0] if found else None


async def n_untouched_unless_member(
    clients: Any, world: World, setup: Setup, name: str, response: httpx.Response
) -> None:
    n = await state_of_n(clients[0], world, setup)
    if name == "member":
        assert n is None or n["isRead"], n  # the target's own change took effect
    else:
        assert n is not None and n["isRead"] is False, (name, n)


async def n_as_listed(stage: Stage) -> Any:
    return await state_of_n(stage.clients[0], stage.world, stage.setup)


async def preferences_in_a(stage: Stage) -> Any:
    """Everybody's preferences scoped to workspace A (only members may keep any)."""
    db: psycopg.AsyncConnection[Any] = stage.clients[3]
    cur = await db.execute(
        "SELECT to_jsonb(p)::text FROM notification_preferences p WHERE workspace_id = %s"
        " ORDER BY 1",
        (stage.world.a,),
    )
    return [r[0] for r in await cur.fetchall()]


# What the member has (a notification created for them would be listed).
MEMBERS_LIST: State = api("/api/notifications?limit=100", by="member", X_Workspace_Id="{a}")


def on_n(method: str, route: str, expect: tuple[int, ...], path: str, **kw: Any) -> Case:
    return Case(method, route, expect, at(path, **kw.pop("headers", {})), a_notification, **kw)


IN_A = {"X_Workspace_Id": "{a}"}

CASES = [
    on_n("GET", "/api/notifications", OWN, "/api/notifications", headers=IN_A),
    on_n(  # echoes the workspace id it was sent; the count is the caller's own
        "GET",
        "/api/notifications/unread-count",
        OWN,
        "/api/notifications/unread-count",
        headers=IN_A,
        discloses=True,
    ),
    on_n(
        "PATCH",
        "/api/notifications/{notificationId}/read",
        TARGET,
        "/api/notifications/{n}/read",
        after=n_untouched_unless_member,
        fresh=True,
        state=n_as_listed,
    ),
    on_n(
        "POST",
        "/api/notifications/read-all",
        OWN,
        "/api/notifications/read-all",
        headers=IN_A,
        after=n_untouched_unless_member,
        fresh=True,
        state=n_as_listed,
    ),
    on_n(
        "DELETE",
        "/api/notifications/{notificationId}",
        (404, 404, 204, 404, 404, 401, 401),
        "/api/notifications/{n}",
        after=n_untouched_unless_member,
        fresh=True,
        state=n_as_listed,
    ),
    on_n(
        "GET",
        "/api/notifications/preferences",
        SCOPED,
        "/api/notifications/preferences?workspaceId={a}",
    ),
    Case(
        "PUT",
        "/api/notifications/preferences",
        SCOPED,
        at(
            "/api/notifications/preferences",
            lambda v: {
                "workspaceId": v["a"],
                "preferences": [{"type": "BOARD_ASSIGNED", "inApp": False}],
            },
        ),
        state=preferences_in_a,
    ),
    Case(
        "POST",
        "/api/internal/notifications",
        SERVICE,
        at("/api/internal/notifications", lambda v: event_body(v["member_user"], v["a"])),
        state=MEMBERS_LIST,
    ),
    Case(
        "POST",
        "/api/internal/notifications/bulk",
        SERVICE,
        at(
            "/api/internal/notifications/bulk",
            lambda v: {"notifications": [event_body(v["member_user"], v["a"])]},
        ),
        state=MEMBERS_LIST,
    ),
    Case(
        "POST",
        "/api/internal/events/noti",
        (401, 401, 401, 401, 401, 401, 200),
        at(
            "/api/internal/events/noti",
            lambda v: envelope(event_body(v["member_user"], v["a"])),
        ),
        state=MEMBERS_LIST,
    ),
]

# Needs a real server: an in-process client waits for a response body that never ends.
STREAM = Case(
    "GET",
    "/api/notifications/stream",
    (*SCOPED[:3], 200, 200, 401, 401),  # ?workspaceId only filters the caller's own events
    at("/api/notifications/stream?workspaceId={a}", Last_Event_ID="0"),
    a_notification,
)
ROWS = [*CASES, STREAM]


async def test_every_route_has_a_row(matrix_noti: Client) -> None:
    check_routes_covered(matrix_noti.app, ROWS)


@pytest.fixture(scope="module")
async def noti_db(environment: Environment) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """The noti database, for others' preferences (no API shows them)."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["noti"], autocommit=True
    ) as conn:
        yield conn


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(
    matrix_noti: Client,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    noti_db: psycopg.AsyncConnection[Any],
    case: Case,
) -> None:
    await check_case(
        matrix_noti,
        case,
        actors=ACTORS,
        new_world=lambda: new_world(users, issuer),
        clients=(matrix_noti, users, issuer, noti_db),
    )


class FirstEvents:
    """``request`` like httpx's, but a stream answers with what it sent before its first
    keep-alive ping (``connected`` and the replay), then is closed."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def request(
        self, method: str, path: str, *, json: Any, headers: dict[str, str], **_: Any
    ) -> httpx.Response:
        async with self.http.stream(method, path, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
                return httpx.Response(
                    response.status_code, content=response.content, headers=response.headers
                )
            reader = SseReader(response.aiter_text())
            await reader.until_ping()
            sent = "".join(f"{e.event}:{e.data}\n" for e in reader.pending)
            return httpx.Response(200, text=sent)


@pytest.mark.slow
async def test_stream_row(
    noti_process: httpx.AsyncClient,
    matrix_noti: Client,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
) -> None:
    async def replayed_to_its_target(
        clients: Any, world: World, setup: Setup, name: str, response: httpx.Response
    ) -> None:
        if name == "member":  # the control: N is in its target's replay
            assert setup.values["n"] in response.text, response.text

    await check_case(
        FirstEvents(noti_process),
        replace(STREAM, after=replayed_to_its_target),
        actors=ACTORS,
        new_world=lambda: new_world(users, issuer),
        clients=(matrix_noti, users, issuer),
    )


@pytest.mark.slow
async def test_a_live_notification_reaches_its_target_stream_only(
    noti_process: httpx.AsyncClient, users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    """Each signed-in actor's stream is open; N is created for A's member, then a marker
    for each of the others: every other stream sees its marker and never N (a notification
    fanned out to the wrong topic would come first, on the same connection)."""
    world = await new_world(users, issuer)
    people = {n: a for n, a in world.actors().items() if n not in {"anonymous", "internal_key"}}
    async with AsyncExitStack() as stack:
        readers: dict[str, SseReader] = {}
        for name, who in people.items():
            response = await stack.enter_async_context(
                noti_process.stream("GET", "/api/notifications/stream", headers=who.headers)
            )
            assert response.status_code == 200, name
            readers[name] = SseReader(response.aiter_text())
            assert (await readers[name].next()).event == "connected"
        secret = await create(noti_process, world.member.user_id, world.a, name="Alpha private")
        wanted = {"member": secret["id"]}
        for name, who in people.items():
            if name != "member":
                made = await create(noti_process, who.user_id, world.b, name=f"marker {name}")
                wanted[name] = made["id"]

        async def read_until(name: str) -> list[str]:
            seen: list[str] = []
            while not seen or wanted[name] not in seen[-1]:
                event = await readers[name].next()
                if event.event == "notification":
                    seen.append(event.data)
            return seen

        got = dict(zip(people, await asyncio.gather(*map(read_until, people)), strict=True))
    for name, seen in got.items():
        assert len(seen) == 1, (name, seen)  # its own, and nothing before it
        if name != "member":
            assert secret["id"] not in seen[0] and "Alpha private" not in seen[0], name
