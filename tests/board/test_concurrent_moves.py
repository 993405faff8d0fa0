"""Fifty clients move cards of one column at once, through a real ``wealist serve board``
process: afterwards every card is there exactly once, and the order is one order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.plugins.harness import TokenIssuer
from tests.user.support import build_world

pytestmark = pytest.mark.slow
CARDS = 30
CLIENTS = 50
MOVES_EACH = 4


async def test_fifty_clients_moving_cards_lose_and_duplicate_nothing(
    service_process: Callable[..., Any], users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    world = await build_world(users, issuer)
    board_proc = await service_process(
        "board", env={"WEALIST_BOARD_USER_SERVICE_URL": str(users.base_url)}
    )
    async with httpx.AsyncClient(
        base_url=board_proc.url, headers=world.owner.headers, timeout=60
    ) as http:
        project = (
            await http.post("/api/projects", json={"workspaceId": world.a, "name": "Race"})
        ).json()["data"]["projectId"]
        cards = []
        for n in range(CARDS):
            made = await http.post(
                "/api/boards",
                json={
                    "projectId": project,
                    "title": f"card {n}",
                    "customFields": {"stage": "pending"},
                },
            )
            assert made.status_code == 201, made.text
            cards.append(made.json()["data"]["boardId"])

        async def client(seed: int) -> list[int]:
            rng = random.Random(seed)
            statuses = []
            for _ in range(MOVES_EACH):
                card, neighbour = rng.sample(cards, 2)
                where = rng.choice(["afterBoardId", "beforeBoardId", None])
                body: dict[str, Any] = {
                    "projectId": project,
                    "groupByFieldName": "stage",
                    "newFieldValue": "pending",
                }
                if where:
                    body[where] = neighbour
                response = await http.put(f"/api/boards/{card}/move", json=body)
                statuses.append(response.status_code)
            return statuses

        results = await asyncio.gather(*(client(seed) for seed in range(CLIENTS)))
        assert {s for statuses in results for s in statuses} == {200}

        listed = (await http.get("/api/boards", params={"projectId": project})).json()["data"]
    assert sorted(b["boardId"] for b in listed) == sorted(cards)  # each card exactly once
    ranks = [b["rank"] for b in listed]
    assert ranks == sorted(ranks)  # the list is in rank order...
    assert len(set(ranks)) == CARDS  # ...and no two cards share a place
    assert {b["customFields"]["stage"] for b in listed} == {"pending"}
