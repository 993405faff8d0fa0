"""Every video route crossed with {the room's creator (workspace OWNER), a workspace
ADMIN, a MEMBER, an outsider, an admin of another workspace, anonymous}: each cell's
status is asserted, nobody outside workspace A sees anything of it, and every refused write
leaves what it would change as it was (each write row's ``state``, read through the API as
the owner). A room is managed by its creator or A's OWNER/ADMIN: rows on the member's own
room show the creator may, as a plain member. A route without a row fails
``test_every_route_has_a_row``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.authz.support import Users, in_process, user_service
from tests.plugins.authz import Case, Setup, State, api, at, check_case, check_routes_covered
from tests.plugins.harness import Environment, TokenIssuer
from tests.plugins.livekit_server import FakeLiveKit, livekit_settings, serving
from tests.user.support import World, build_world

Client = AsyncTestClient[Litestar]
ACTORS = ("owner", "admin", "member", "outsider", "other_admin", "anonymous")

READ = (200, 200, 200, 403, 403, 401)
MANAGE = (200, 200, 403, 403, 403, 401)
CREATOR = (200, 200, 200, 403, 403, 401)  # the member's own room: they manage it too
NOBODY = (401, 401, 401, 401, 401, 401)


@pytest.fixture(scope="module")
async def users(environment: Environment, tmp_path_factory: pytest.TempPathFactory) -> Users:
    async with user_service(environment, tmp_path_factory) as client:
        yield client


@pytest.fixture(scope="module")
def module_livekit() -> Iterator[FakeLiveKit]:
    with serving() as fake:
        yield fake


@pytest.fixture(scope="module")
async def video_turn(
    environment: Environment, users: httpx.AsyncClient, module_livekit: FakeLiveKit
) -> AsyncIterator[Client]:
    settings = livekit_settings(
        module_livekit,
        user_service_url=str(users.base_url),
        turn_secret="matrix-turn-secret-0123456789abcdef",
        turn_urls=["turn:turn.example:3478"],
    )
    async with in_process(environment, "video", **settings) as opened:
        yield opened


async def a_room(clients: Any, world: World) -> Setup:
    video, _, _ = clients
    body = {"name": "Alpha sync", "workspaceId": world.a}
    response = await video.post("/api/video/rooms", json=body, headers=world.owner.headers)
    assert response.status_code == 201, response.text
    return Setup({"room": response.json()["data"]["id"]})


async def a_call(clients: Any, world: World) -> Setup:
    """A room with the owner, the admin and the member in the call."""
    setup = await a_room(clients, world)
    video, _, _ = clients
    for who in (world.owner, world.admin, world.member):
        joined = await video.post(
            f"/api/video/rooms/{setup.values['room']}/join", json={}, headers=who.headers
        )
        assert joined.status_code == 200, joined.text
    return setup


async def a_call_with_notes(clients: Any, world: World) -> Setup:
    """A call whose transcript the owner saved."""
    setup = await a_call(clients, world)
    saved = await clients[0].post(
        f"/api/video/rooms/{setup.values['room']}/transcript",
        json={"content": "notes"},
        headers=world.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    setup.values["history"] = saved.json()["data"]["callHistoryId"]
    return setup


async def a_members_call(clients: Any, world: World) -> Setup:
    """A room the member created, with the owner, the admin and the member in the call."""
    video = clients[0]
    body = {"name": "Member sync", "workspaceId": world.a}
    made = await video.post("/api/video/rooms", json=body, headers=world.member.headers)
    assert made.status_code == 201, made.text
    room = made.json()["data"]["id"]
    for who in (world.owner, world.admin, world.member):
        joined = await video.post(f"/api/video/rooms/{room}/join", json={}, headers=who.headers)
        assert joined.status_code == 200, joined.text
    return Setup({"room": room})


async def an_ended_call(clients: Any, world: World) -> Setup:
    setup = await a_call(clients, world)
    video, _, _ = clients
    room = setup.values["room"]
    saved = await video.post(
        f"/api/video/rooms/{room}/transcript",
        json={"content": "notes"},
        headers=world.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    ended = await video.post(f"/api/video/rooms/{room}/end", headers=world.owner.headers)
    assert ended.status_code == 200, ended.text
    setup.values["history"] = saved.json()["data"]["callHistoryId"]
    return setup


def new_room(v: dict[str, str]) -> dict[str, str]:
    return {"name": f"New call by {v['actor']}", "workspaceId": v["a"]}


def workspace_deleted(v: dict[str, str]) -> dict[str, Any]:
    """The user service's event deleting workspace A (its rooms go with it)."""
    return {
        "id": str(uuid.uuid4()),
        "type": "workspace.deleted",
        "occurred_at": "2030-01-01T00:00:00Z",
        "payload": {"workspaceId": v["a"]},
    }


# The room (who is in the call, whether it runs) and the workspace's rooms, as the owner
# sees them.
ROOM: State = api("/api/video/rooms/{room}", "/api/video/rooms/{room}/participants")
ROOMS: State = api("/api/video/rooms/workspace/{a}")
NOTES: State = api("/api/video/history/{history}/transcript")


CASES = [
    Case(
        "POST",
        "/api/video/rooms",
        (201, 201, 201, 403, 403, 401),
        at("/api/video/rooms", new_room),
        state=ROOMS,
    ),
    Case(
        "GET",
        "/api/video/rooms/workspace/{workspaceId}",
        READ,
        at("/api/video/rooms/workspace/{a}"),
        prepare=a_room,
    ),
    Case("GET", "/api/video/rooms/{roomId}", READ, at("/api/video/rooms/{room}"), prepare=a_room),
    Case(
        "POST",
        "/api/video/rooms/{roomId}/join",
        READ,
        at("/api/video/rooms/{room}/join", {}),
        prepare=a_room,
        state=ROOM,
    ),
    Case(
        "POST",
        "/api/video/rooms/{roomId}/leave",
        READ,
        at("/api/video/rooms/{room}/leave"),
        prepare=a_call,
        fresh=True,
        state=ROOM,
    ),
    Case(
        "POST",
        "/api/video/rooms/{roomId}/end",
        MANAGE,
        at("/api/video/rooms/{room}/end"),
        prepare=a_call,
        fresh=True,
        state=ROOM,
    ),
    Case(
        "POST",
        "/api/video/rooms/{roomId}/end",
        CREATOR,
        at("/api/video/rooms/{room}/end"),
        prepare=a_members_call,
        fresh=True,
        state=ROOM,
        note="the member's room",
    ),
    Case(
        "GET",
        "/api/video/rooms/{roomId}/participants",
        READ,
        at("/api/video/rooms/{room}/participants"),
        prepare=a_call,
    ),
    Case(
        "DELETE",
        "/api/video/rooms/{roomId}/participants/{userId}",
        MANAGE,  # the owner removing themself leaves; the admin may remove the creator
        at("/api/video/rooms/{room}/participants/{owner}"),
        prepare=a_call,
        fresh=True,
        state=ROOM,
    ),
    Case(
        "DELETE",
        "/api/video/rooms/{roomId}/participants/{userId}",
        CREATOR,  # the member, as the room's creator, may remove the owner
        at("/api/video/rooms/{room}/participants/{owner}"),
        prepare=a_members_call,
        fresh=True,
        state=ROOM,
        note="the member's room",
    ),
    Case(
        "POST",
        "/api/video/rooms/{roomId}/transcript",
        READ,
        at("/api/video/rooms/{room}/transcript", lambda v: {"content": f"by {v['actor']}"}),
        prepare=a_call_with_notes,
        state=NOTES,
    ),
    Case(
        "GET",
        "/api/video/history/workspace/{workspaceId}",
        READ,
        at("/api/video/history/workspace/{a}"),
        prepare=an_ended_call,
    ),
    Case(
        "GET",
        "/api/video/history/me",
        (200, 200, 200, 200, 200, 401),  # one's own calls: nothing for outsiders
        at("/api/video/history/me"),
        prepare=an_ended_call,
    ),
    Case(
        "GET",
        "/api/video/history/{historyId}",
        READ,
        at("/api/video/history/{history}"),
        prepare=an_ended_call,
    ),
    Case(
        "GET",
        "/api/video/history/{historyId}/transcript",
        READ,
        at("/api/video/history/{history}/transcript"),
        prepare=an_ended_call,
    ),
    Case(
        "GET",
        "/api/video/turn-credentials",
        (200, 200, 200, 200, 200, 401),  # anyone signed in may relay through TURN
        at("/api/video/turn-credentials"),
    ),
    Case(  # a user's access token is not a LiveKit signature: the call goes on
        "POST",
        "/api/video/webhooks/livekit",
        NOBODY,
        at(
            "/api/video/webhooks/livekit",
            lambda v: {
                "id": str(uuid.uuid4()),
                "event": "room_finished",
                "room": {"name": v["room"]},
            },
        ),
        prepare=a_call,
        state=ROOM,
    ),
    Case(  # the internal key only: a user's token cannot delete A
        "POST",
        "/api/internal/events/video",
        NOBODY,
        at("/api/internal/events/video", workspace_deleted),
        prepare=a_room,
        state=ROOMS,
    ),
]


async def test_every_route_has_a_row(video_turn: Client) -> None:
    check_routes_covered(video_turn.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(
    video_turn: Client, users: httpx.AsyncClient, issuer: TokenIssuer, case: Case
) -> None:
    await check_case(
        video_turn,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(users, issuer),
        clients=(video_turn, users, issuer),
    )
