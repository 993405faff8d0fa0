"""Apply-events equivalence (reliability T10, the board's part): a client that takes a
snapshot of the kanban and applies the live events after it ends up with exactly the
board a fresh snapshot shows, after every step of a random walk of changes by several
people. The events are the frames the project's sockets are sent (stored, in order)."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.support import Scene, build_scene, unwrap
from tests.plugins.harness import TokenIssuer
from tests.user.support import build_world

Client = AsyncTestClient[Litestar]
Db = Any
STAGES = ["pending", "in_progress", "review", "approved"]
STEPS = 40


class Follower:
    """What a client builds from one snapshot plus the events after it."""

    def __init__(self, boards: list[dict[str, Any]], seq: int) -> None:
        self.boards = {b["boardId"]: b for b in boards}
        self.seq = seq

    def apply(self, frame: dict[str, Any]) -> None:
        assert frame["seq"] == self.seq + 1, (frame["seq"], self.seq)  # no gap, no repeat
        self.seq = frame["seq"]
        kind, payload = frame["type"], frame["payload"]
        if kind in {"BOARD_CREATED", "BOARD_UPDATED"}:
            self.boards[payload["boardId"]] = payload
        elif kind == "BOARD_MOVED":
            self.boards[payload["board"]["boardId"]] = payload["board"]
        elif kind == "BOARD_DELETED":
            del self.boards[payload["boardId"]]

    def in_column_order(self) -> list[str]:
        order = {stage: n for n, stage in enumerate([*STAGES, "deleted"])}
        cards = sorted(
            self.boards.values(),
            key=lambda b: (order.get(b["customFields"].get("stage", ""), 99), b["rank"]),
        )
        return [b["boardId"] for b in cards]


async def frames_after(db: Db, project: str, seq: int) -> list[dict[str, Any]]:
    cur = await db.execute(
        "SELECT frame FROM board_events WHERE project_id = %s AND seq > %s ORDER BY seq",
        (project, seq),
    )
    return [json.loads(row[0]) for row in await cur.fetchall()]


async def snapshot(board: Client, who: Any, project: str) -> tuple[list[dict[str, Any]], int]:
    response = await board.get("/api/boards", params={"projectId": project}, headers=who.headers)
    return unwrap(response), int(response.headers["x-event-seq"])


async def step(board: Client, scene: Scene, rng: random.Random, cards: list[str]) -> None:
    """One random change by a random project member (refusals are part of the walk)."""
    who = rng.choice([scene.project_owner, scene.project_admin, scene.project_member])
    action = rng.choice(["create", "create", "move", "move", "move", "update", "delete"])
    if action == "create" or not cards:
        made = await board.post(
            "/api/boards",
            json={
                "projectId": scene.project,
                "title": f"card {rng.randrange(10**6)}",
                "customFields": {"stage": rng.choice(STAGES)},
            },
            headers=who.headers,
        )
        cards.append(unwrap(made, 201)["boardId"])
        return
    card = rng.choice(cards)
    if action == "move":
        where: dict[str, str] = {}
        if len(cards) > 1 and rng.random() < 0.7:
            other = rng.choice([c for c in cards if c != card])
            where[rng.choice(["beforeBoardId", "afterBoardId"])] = other
        moved = await board.put(
            f"/api/boards/{card}/move",
            json={
                "projectId": scene.project,
                "groupByFieldName": "stage",
                "newFieldValue": rng.choice(STAGES),
                **where,
            },
            headers=who.headers,
        )
        assert moved.status_code == 200, moved.text
    elif action == "update":
        change: dict[str, Any] = rng.choice(
            [
                {"title": f"renamed {rng.randrange(1000)}"},
                {"customFields": {"importance": rng.choice(["high", "low"])}},
                {"participants": [scene.ws_member.user_id]},
                {"dueDate": f"2027-01-0{rng.randint(1, 9)}T00:00:00Z"},
            ]
        )
        unwrap(await board.put(f"/api/boards/{card}", json=change, headers=who.headers))
    else:
        deleted = await board.delete(f"/api/boards/{card}", headers=who.headers)
        if deleted.status_code == 200:
            cards.remove(card)
        else:  # a plain member deletes only their own cards
            assert deleted.status_code == 403, deleted.text


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_snapshot_plus_events_equals_a_fresh_snapshot(
    board: Client, users: httpx.AsyncClient, issuer: TokenIssuer, db_board: Db, seed: int
) -> None:
    scene = await build_scene(board, users, issuer, await build_world(users, issuer))
    rng = random.Random(seed)
    viewer = scene.ws_member
    followers = [Follower(*await snapshot(board, viewer, scene.project))]
    cards: list[str] = [scene.board]
    for n in range(STEPS):
        await step(board, scene, rng, cards)
        if n % 10 == 5:  # a client joining mid-walk, from its own snapshot
            followers.append(Follower(*await snapshot(board, viewer, scene.project)))
        fresh, seq = await snapshot(board, viewer, scene.project)
        for follower in followers:
            for frame in await frames_after(db_board, scene.project, follower.seq):
                follower.apply(frame)
            assert follower.seq == seq
            assert follower.boards == {b["boardId"]: b for b in fresh}
            assert follower.in_column_order() == [b["boardId"] for b in fresh]
