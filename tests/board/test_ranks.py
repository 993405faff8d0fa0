"""Rank keys (T15): the key functions themselves, and the board service keeping its keys
short and its order exact under thousands of inserts at one spot.

The service tests drive the real board app (its routes, actions, SQL and renumbering) on
the test's own event loop through httpx's ASGI transport, which is quicker per request
than the portal-threaded test client; nothing of the service is copied here.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.board.support import unwrap
from tests.plugins.harness import Environment
from tests.user.support import Actor, World
from wealist.board.ranks import DIGITS, MAX_LENGTH, between, spread
from wealist.core.app import build_app
from wealist.services import spec

# --- the key functions ------------------------------------------------------------------


def test_first_keys() -> None:
    assert between(None, None) == "V"
    assert between("V", None) > "V"
    assert between(None, "V") < "V"
    assert "0" < between(None, "1") < "1"


@pytest.mark.parametrize("bad", ["", "a0", "a b", "é"])
def test_malformed_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a rank key"):
        between(bad, None)


def test_keys_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="does not sort before"):
        between("b", "a")


@given(st.lists(st.text(alphabet=DIGITS, min_size=1, max_size=12), min_size=2, max_size=2))
def test_between_is_strictly_between(pair: list[str]) -> None:
    a, b = (k.rstrip("0") for k in pair)
    if not a or not b or a == b:
        return
    low, high = sorted((a, b))
    key = between(low, high)
    assert low < key < high
    assert not key.endswith("0")


@pytest.mark.parametrize("count", [1, 2, 61, 62, 1000, 10_000])
def test_spread_is_increasing_and_short(count: int) -> None:
    keys = spread(count)
    assert len(keys) == count
    assert keys == sorted(keys)
    assert len(set(keys)) == count
    assert max(len(k) for k in keys) <= 4
    assert all(k and not k.endswith("0") for k in keys)


# --- the board service ------------------------------------------------------------------


@asynccontextmanager
async def board_service(environment: Environment, users: httpx.AsyncClient) -> AsyncIterator[Any]:
    """The board app, its lifespan run on this loop, and an httpx client over ASGI.

    Entered inside the test itself: the lifespan must end in the task that began it."""
    settings = environment.settings("board", user_service_url=str(users.base_url))
    app = build_app(spec("board"), settings, configure_logs=False)
    transport = httpx.ASGITransport(app)  # type: ignore[arg-type]  # Litestar's ASGI types
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://board", timeout=30) as client,
    ):
        yield client


class Column:
    """Calls of the board API on one project, as its owner."""

    def __init__(self, http: httpx.AsyncClient, owner: Actor, project: str) -> None:
        self.http = http
        self.owner = owner
        self.project = project

    @classmethod
    async def open(cls, http: httpx.AsyncClient, world: World) -> Column:
        made = await http.post(
            "/api/projects",
            json={"workspaceId": world.a, "name": "Ranks"},
            headers=world.owner.headers,
        )
        return cls(http, world.owner, unwrap(made, 201)["projectId"])

    async def create(self, title: str, stage: str = "pending") -> dict[str, Any]:
        made = await self.http.post(
            "/api/boards",
            json={"projectId": self.project, "title": title, "customFields": {"stage": stage}},
            headers=self.owner.headers,
        )
        found: dict[str, Any] = unwrap(made, 201)
        return found

    async def move(self, card: str, **where: str) -> dict[str, Any]:
        moved = await self.http.put(
            f"/api/boards/{card}/move",
            json={
                "projectId": self.project,
                "groupByFieldName": "stage",
                "newFieldValue": "pending",
                **where,
            },
            headers=self.owner.headers,
        )
        found: dict[str, Any] = unwrap(moved)
        return found

    async def listed(self) -> list[dict[str, Any]]:
        """The project's boards as the API lists them (column order, then rank)."""
        found = await self.http.get(
            "/api/boards", params={"projectId": self.project}, headers=self.owner.headers
        )
        boards: list[dict[str, Any]] = unwrap(found)
        return boards

    async def stored_ranks(self, environment: Environment) -> dict[str, str]:
        """Board id -> rank, read from the board database itself."""
        async with await psycopg.AsyncConnection.connect(environment.databases["board"]) as db:
            cur = await db.execute(
                "SELECT id::text, rank FROM boards WHERE project_id = %s", (self.project,)
            )
            return dict(await cur.fetchall())


def assert_short_keys(ranks: list[str]) -> None:
    """What the service promises of every stored key: well formed, unique, and never
    longer than MAX_LENGTH (a project is renumbered before one would be)."""
    assert len(set(ranks)) == len(ranks)
    assert all(r and not r.endswith("0") and set(r) <= set(DIGITS) for r in ranks)
    longest = max(len(r) for r in ranks)
    assert longest <= MAX_LENGTH, longest


@pytest.mark.slow
async def test_ten_thousand_new_cards_at_the_end_of_a_column_keep_short_keys_and_order(
    users: httpx.AsyncClient, world: World, environment: Environment
) -> None:
    """Every new card of a column lands at one spot: after the column's last card, right
    before the first card of the next column (the project has one order). Without
    renumbering the keys there would grow by a digit every few cards."""
    async with board_service(environment, users) as service:
        column = await Column.open(service, world)
        first = await column.create("first")
        nxt = await column.create("next column", stage="in_progress")
        assert first["rank"] < nxt["rank"]
        created = []
        for n in range(10_000):
            card = await column.create(f"card {n}")
            assert len(card["rank"]) <= MAX_LENGTH
            created.append(card["boardId"])

        stored = await column.stored_ranks(environment)
        assert len(stored) == 10_002
        assert_short_keys(list(stored.values()))
        assert stored[first["boardId"]] != first["rank"]  # the column was renumbered
        listed = await column.listed()
        assert [b["boardId"] for b in listed] == [first["boardId"], *created, nxt["boardId"]]
        ranks = [b["rank"] for b in listed]
        assert ranks == sorted(ranks)  # one order: the column's, then the next column's
        assert ranks == [stored[b["boardId"]] for b in listed]  # the API shows what is stored


async def test_a_card_dropped_at_the_top_again_and_again_keeps_short_keys_and_order(
    users: httpx.AsyncClient, world: World, environment: Environment
) -> None:
    """The last card of a column is dragged to its top, over and over (a rotation)."""
    async with board_service(environment, users) as service:
        column = await Column.open(service, world)
        before = await column.create("another column", stage="review")
        cards = [(await column.create(f"card {n}"))["boardId"] for n in range(12)]
        after = await column.create("next column", stage="in_progress")
        renumbered = 0
        top_rank = None
        for _ in range(1_000):
            moved = await column.move(cards[-1], beforeBoardId=cards[0])
            cards.insert(0, cards.pop())
            assert len(moved["rank"]) <= MAX_LENGTH
            if top_rank is not None and moved["rank"] > top_rank:
                renumbered += 1  # a renumbering handed out fresh, evenly spaced keys
            top_rank = moved["rank"]
        assert renumbered > 0

        stored = await column.stored_ranks(environment)
        assert_short_keys(list(stored.values()))
        listed = await column.listed()
        # columns in their display order (pending, in_progress, review), each by rank
        assert [b["boardId"] for b in listed] == [*cards, after["boardId"], before["boardId"]]
        assert [b["rank"] for b in listed] == [stored[b["boardId"]] for b in listed]


async def test_moves_to_random_places_keep_the_order_of_a_list(
    users: httpx.AsyncClient, world: World, environment: Environment
) -> None:
    """Random cards moved next to random neighbours (after one, before one, between two,
    or to the end): the column always reads as the same moves made on a list."""
    rng = random.Random(7)
    async with board_service(environment, users) as service:
        column = await Column.open(service, world)
        model = [(await column.create(f"card {n}"))["boardId"] for n in range(40)]
        for _ in range(400):
            card = model.pop(rng.randrange(len(model)))
            spot = rng.randint(0, len(model))
            where: dict[str, str] = {}
            kind = rng.choice(["after", "before", "both", "end"])
            if spot == len(model) or kind == "end":
                spot = len(model)
                if kind != "end":
                    where["afterBoardId"] = model[-1]
            elif spot == 0 or kind == "before":
                where["beforeBoardId"] = model[spot]
            else:
                where["afterBoardId"] = model[spot - 1]
                if kind == "both":
                    where["beforeBoardId"] = model[spot]
            await column.move(card, **where)
            model.insert(spot, card)
        listed = await column.listed()
        assert [b["boardId"] for b in listed] == model
        stored = await column.stored_ranks(environment)
        assert_short_keys(list(stored.values()))
        assert [b["rank"] for b in listed] == sorted(stored.values())
