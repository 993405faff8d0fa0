"""The live board socket against real ``wealist serve board`` processes on one Redis:
who may open it, events once and in sequence order across instances, resume from a
sequence number, ``reset`` when the log no longer holds the gap, online users counted per
connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.board.support import Scene, build_scene, unwrap
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.user.support import Actor, build_world

pytestmark = pytest.mark.slow


class Socket:
    """A board socket client: JSON frames, heartbeats skipped."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame.get("type") != "heartbeat":
                return frame

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.recv() for _ in range(count)]

    async def quiet(self, seconds: float = 0.5) -> None:
        """Nothing more arrives (a duplicate would)."""
        try:
            extra = await self.recv(timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {extra}")


@asynccontextmanager
async def socket(
    proc: ServiceProcess, who: Actor, project: str, query: str = ""
) -> AsyncIterator[Socket]:
    token = who.headers["Authorization"].removeprefix("Bearer ")
    url = f"{proc.ws_url}/ws/project/{project}?token={token}{query}"
    async with connect(url, open_timeout=10) as ws:
        yield Socket(ws)


@pytest.fixture
async def boards(
    service_process: Callable[..., Any], users: httpx.AsyncClient
) -> list[ServiceProcess]:
    """Two board processes on the same Redis and database."""
    env = {
        "WEALIST_BOARD_USER_SERVICE_URL": str(users.base_url),
        "WEALIST_BOARD_REPLAY_LIMIT": "20",
        "WEALIST_BOARD_ONLINE_TTL_S": "3",  # sockets re-check every second
    }
    return [await service_process("board", env=env) for _ in range(2)]


@pytest.fixture
async def scene(
    boards: list[ServiceProcess], users: httpx.AsyncClient, issuer: TokenIssuer
) -> Scene:
    async with httpx.AsyncClient(base_url=boards[0].url, timeout=30) as http:
        return await build_scene(http, users, issuer, await build_world(users, issuer))


async def rename(proc: ServiceProcess, who: Actor, board: str, title: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=proc.url, headers=who.headers, timeout=30) as http:
        return dict(unwrap(await http.put(f"/api/boards/{board}", json={"title": title})))


async def current_seq(proc: ServiceProcess, who: Actor, project: str) -> int:
    async with httpx.AsyncClient(base_url=proc.url, headers=who.headers, timeout=30) as http:
        listed = await http.get("/api/boards", params={"projectId": project})
    assert listed.status_code == 200, listed.text
    return int(listed.headers["x-event-seq"])


async def test_project_and_workspace_members_may_follow_a_project_and_nobody_else(
    boards: list[ServiceProcess], scene: Scene
) -> None:
    for name in ("project_owner", "project_admin", "project_member", "ws_member"):
        async with socket(boards[0], scene.actors()[name], scene.project) as ws:
            hello = await ws.recv()
            assert hello["type"] == "connected", name
            assert hello["projectId"] == scene.project
    for name in ("outsider", "other_admin"):
        with pytest.raises(InvalidStatus) as refused:
            async with socket(boards[0], scene.actors()[name], scene.project):
                pass  # pragma: no cover - refused before the handshake completes
        assert refused.value.response.status_code == 403, name
    for path in (f"/ws/project/{scene.project}", f"/ws/project/{scene.project}?token=nope"):
        with pytest.raises(InvalidStatus):
            async with connect(f"{boards[0].ws_url}{path}", open_timeout=10):
                pass  # pragma: no cover


async def test_a_change_on_one_instance_reaches_a_socket_on_the_other_once_in_order(
    boards: list[ServiceProcess], scene: Scene
) -> None:
    a, b = boards
    async with socket(b, scene.project_member, scene.project) as ws:
        start = (await ws.recv())["currentSeq"]
        for n in range(5):
            await rename(a, scene.project_owner, scene.board, f"title {n}")
        frames = await ws.events(5)
        await ws.quiet()
    assert [f["seq"] for f in frames] == list(range(start + 1, start + 6))
    assert [f["type"] for f in frames] == ["BOARD_UPDATED"] * 5
    assert [f["payload"]["title"] for f in frames] == [f"title {n}" for n in range(5)]
    assert all(f["boardId"] == scene.board and f["projectId"] == scene.project for f in frames)


async def test_a_socket_that_resumes_from_its_last_sequence_number_misses_nothing(
    boards: list[ServiceProcess], scene: Scene
) -> None:
    a, b = boards
    async with socket(b, scene.ws_member, scene.project) as ws:
        await ws.recv()
        await rename(a, scene.project_owner, scene.board, "seen")
        last = (await ws.recv())["seq"]
    for n in range(3):  # while it is away
        await rename(a, scene.project_owner, scene.board, f"missed {n}")
    async with socket(b, scene.ws_member, scene.project, f"&after={last}") as ws:
        hello = await ws.recv()
        assert (hello["type"], hello["currentSeq"]) == ("connected", last + 3)
        missed = await ws.events(3)
        await rename(a, scene.project_owner, scene.board, "live")
        live = await ws.recv()
        await ws.quiet()
    assert [f["seq"] for f in [*missed, live]] == [last + 1, last + 2, last + 3, last + 4]
    assert [f["payload"]["title"] for f in missed] == ["missed 0", "missed 1", "missed 2"]
    assert live["payload"]["title"] == "live"


async def test_events_since_a_list_are_replayed_from_its_sequence_number(
    boards: list[ServiceProcess], scene: Scene
) -> None:
    seq = await current_seq(boards[0], scene.project_owner, scene.project)
    await rename(boards[0], scene.project_owner, scene.board, "after the list")
    async with socket(boards[1], scene.project_owner, scene.project, f"&after={seq}") as ws:
        assert (await ws.recv())["type"] == "connected"
        replayed = await ws.recv()
    assert (replayed["seq"], replayed["payload"]["title"]) == (seq + 1, "after the list")


@pytest.mark.parametrize("where", ["too_old", "ahead"])
async def test_a_resume_point_the_log_cannot_serve_gets_reset(
    boards: list[ServiceProcess], scene: Scene, where: str
) -> None:
    for n in range(22):  # more than the replay limit of 20
        await rename(boards[0], scene.project_owner, scene.board, f"n{n}")
    seq = await current_seq(boards[0], scene.project_owner, scene.project)
    after = 0 if where == "too_old" else seq + 5
    async with socket(boards[1], scene.project_owner, scene.project, f"&after={after}") as ws:
        reset = await ws.recv()
        assert reset == {
            "type": "reset",
            "reason": where,
            "currentSeq": seq,
            "projectId": scene.project,
        }
        await rename(boards[0], scene.project_owner, scene.board, "next")
        assert (await ws.recv())["seq"] == seq + 1


async def test_every_kind_of_change_reaches_the_socket(
    boards: list[ServiceProcess], scene: Scene
) -> None:
    owner = scene.project_owner
    async with (
        socket(boards[1], scene.ws_member, scene.project) as ws,
        httpx.AsyncClient(base_url=boards[0].url, headers=owner.headers, timeout=30) as http,
    ):
        await ws.recv()
        made = unwrap(
            await http.post("/api/boards", json={"projectId": scene.project, "title": "new"}), 201
        )
        unwrap(
            await http.put(
                f"/api/boards/{made['boardId']}/move",
                json={
                    "projectId": scene.project,
                    "groupByFieldName": "stage",
                    "newFieldValue": "review",
                },
            )
        )
        comment = unwrap(
            await http.post("/api/comments", json={"boardId": made["boardId"], "content": "hi"}),
            201,
        )
        unwrap(await http.delete(f"/api/comments/{comment['commentId']}"))
        unwrap(await http.delete(f"/api/boards/{made['boardId']}"))
        frames = await ws.events(5)
    assert [f["type"] for f in frames] == [
        "BOARD_CREATED",
        "BOARD_MOVED",
        "COMMENT_CREATED",
        "COMMENT_DELETED",
        "BOARD_DELETED",
    ]
    moved = frames[1]["payload"]
    assert (moved["from"], moved["to"], moved["board"]["customFields"]["stage"]) == (
        "",
        "review",
        "review",
    )
    assert frames[4]["payload"] == {"boardId": made["boardId"]}
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + 5))


async def test_online_users_count_connections_not_users(
    boards: list[ServiceProcess], scene: Scene
) -> None:
    owner = scene.project_owner

    async def online() -> list[str]:
        async with httpx.AsyncClient(base_url=boards[0].url, headers=owner.headers) as http:
            found = await http.get(f"/api/projects/{scene.project}/online-users")
        assert found.status_code == 200, found.text
        body = found.json()
        assert set(body) == {"onlineUsers", "count"}  # raw, no envelope (contract 5.1)
        assert body["count"] == len(body["onlineUsers"])
        return list(body["onlineUsers"])

    assert await online() == []
    async with socket(boards[0], scene.ws_member, scene.project) as first:
        await first.recv()
        async with socket(boards[1], scene.ws_member, scene.project) as second:
            await second.recv()
            assert await online() == [scene.ws_member.user_id]
        # One of two tabs closed: still online.
        assert await online() == [scene.ws_member.user_id]
    await eventually(online, equals=[])


async def test_an_event_committed_but_never_published_still_arrives(
    boards: list[ServiceProcess], scene: Scene, environment: Any
) -> None:
    """The process that committed it died before publishing: the socket reads the log."""
    import psycopg

    async with socket(boards[0], scene.ws_member, scene.project) as ws:
        seq = (await ws.recv())["currentSeq"]
        async with await psycopg.AsyncConnection.connect(
            environment.databases["board"], autocommit=True
        ) as db:
            await db.execute(
                "WITH bumped AS (UPDATE projects SET event_seq = event_seq + 1 WHERE id = %s"
                " RETURNING event_seq) INSERT INTO board_events (project_id, seq, frame)"
                ' SELECT %s, event_seq, \'{"seq":\' || event_seq || \',"type":"BOARD_UPDATED"}\''
                " FROM bumped",
                (scene.project, scene.project),
            )
        orphan = await ws.recv(timeout=10)
    assert (orphan["seq"], orphan["type"]) == (seq + 1, "BOARD_UPDATED")
