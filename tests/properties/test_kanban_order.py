"""Kanban ordering as a stateful property (reliability T14, one client at a time; the
concurrent form is tests/board/test_concurrent_moves.py).

A Hypothesis state machine creates, moves (to the end of a column, right before or right
after any card, between two neighbours of the project or of a column, across columns),
renames and deletes cards through the real board API (the app in-process on the real
database), with ``If-Match`` versions, current or stale, and requests that must be
refused. The model is the project's order as a list: a card moved "after A" sits right
after A, one moved to a column's end sits right after that column's last card (at the
very end when the column is empty); a column is the list filtered by stage. After every
step the API's board list must show each column in the model's order, every card exactly
once, every version as the model counts it (+1 per applied write, unchanged by a refused
one), and rank keys that sort strictly and stay within ``MAX_LENGTH``.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.board.support import unwrap
from tests.plugins.harness import TokenIssuer
from tests.properties.conftest import Client
from tests.properties.support import Bridge, run_machine
from tests.user.support import Actor, build_world
from wealist.board.ranks import MAX_LENGTH


class Kanban(RuleBasedStateMachine):
    board: Client
    owner: Actor
    workspace: str

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.run = bridge
        self.project = ""
        self.stages: list[str] = []  # column order (the stage options' display order)
        self.order: list[str] = []  # the model: every card of the project, in rank order
        self.stage: dict[str, str] = {}
        self.version: dict[str, int] = {}
        self.deleted: list[str] = []
        self.created = 0

    # --- requests ---------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", {}).update(self.owner.headers)
        return self.run(self.board.request(method, path, **kwargs))

    def move_request(
        self, card: str, stage: str, where: dict[str, str], if_match: int | None
    ) -> Any:
        headers = {} if if_match is None else {"If-Match": str(if_match)}
        body = {
            "projectId": self.project,
            "groupByFieldName": "stage",
            "newFieldValue": stage,
            **where,
        }
        return self.call("PUT", f"/api/boards/{card}/move", json=body, headers=headers)

    def listed(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = unwrap(
            self.call("GET", "/api/boards", params={"projectId": self.project})
        )
        return found

    # --- the model --------------------------------------------------------------------

    def columns(self) -> dict[str, list[str]]:
        return {s: [c for c in self.order if self.stage[c] == s] for s in self.stages}

    def end_of(self, stage: str, card: str | None = None) -> int:
        """Where a card going to the end of ``stage`` lands in ``order`` (without it)."""
        rest = [c for c in self.order if c != card]
        last = [n for n, c in enumerate(rest) if self.stage[c] == stage]
        return last[-1] + 1 if last else len(rest)

    def place(self, card: str, stage: str, index: int) -> None:
        """``card`` into ``stage`` at ``index`` of the order without it."""
        if card in self.order:
            self.order.remove(card)
        self.order.insert(index, card)
        self.stage[card] = stage

    # --- rules ------------------------------------------------------------------------

    @initialize()
    def new_project(self) -> None:
        made = self.call(
            "POST", "/api/projects", json={"workspaceId": self.workspace, "name": "Ordering"}
        )
        self.project = unwrap(made, 201)["projectId"]
        options = unwrap(self.call("GET", "/api/field-options", params={"projectId": self.project}))
        stage_options = sorted(
            (o for o in options if o["fieldType"] == "stage"), key=lambda o: o["displayOrder"]
        )
        self.stages = [o["value"] for o in stage_options]
        assert len(self.stages) >= 2, options

    @rule(data=st.data())
    def create(self, data: st.DataObject) -> None:
        stage = data.draw(st.sampled_from(self.stages), label="stage")
        self.created += 1
        made = self.call(
            "POST",
            "/api/boards",
            json={
                "projectId": self.project,
                "title": f"card {self.created}",
                "customFields": {"stage": stage},
            },
        )
        card = unwrap(made, 201)
        assert card["version"] == 1, card
        self.place(card["boardId"], stage, self.end_of(stage))
        self.version[card["boardId"]] = 1

    def move(self, data: st.DataObject, kind: str, *, stale: bool = False) -> None:
        """Move a card into a column: to its end, right before or after another card, or
        between two neighbours; with its current version, or a stale one (412, nothing
        changes)."""
        card = data.draw(st.sampled_from(self.order), label="card")
        stage = data.draw(st.sampled_from(self.stages), label="stage")
        others = [c for c in self.order if c != card]
        where: dict[str, str] = {}
        index = self.end_of(stage, card)
        if kind in ("before", "after"):
            other = data.draw(st.sampled_from(others), label="next to")
            where[f"{kind}BoardId"] = other
            index = others.index(other) + (kind == "after")
        elif kind == "between":  # two neighbours, as a drop between two cards sends them
            n = data.draw(st.integers(0, len(others) - 2), label="after the n-th other card")
            where = {"afterBoardId": others[n], "beforeBoardId": others[n + 1]}
            index = n + 1
        current = self.version[card]
        sent = current
        if stale:
            sent = data.draw(st.sampled_from([v for v in (current - 1, current + 1) if v > 0]))
        response = self.move_request(card, stage, where, sent)
        if stale:
            assert response.status_code == 412, response.text
            assert response.json()["error"]["code"] == "PRECONDITION_FAILED", response.text
            return
        moved = unwrap(response)
        assert moved["version"] == current + 1 and moved["newFieldValue"] == stage, moved
        self.place(card, stage, index)
        self.version[card] = current + 1

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def move_to_end(self, data: st.DataObject) -> None:
        self.move(data, "end")

    @precondition(lambda self: len(self.order) >= 2)
    @rule(data=st.data())
    def move_before(self, data: st.DataObject) -> None:
        self.move(data, "before")

    @precondition(lambda self: len(self.order) >= 2)
    @rule(data=st.data())
    def move_after(self, data: st.DataObject) -> None:
        self.move(data, "after")

    @precondition(lambda self: len(self.order) >= 3)
    @rule(data=st.data())
    def move_between(self, data: st.DataObject) -> None:
        self.move(data, "between")

    def gap_columns(self) -> list[str]:
        """Columns with two neighbours for a card to drop between (the card itself may be
        one of the column's cards only when three are there)."""
        columns = self.columns()
        return [
            s for s in self.stages if len(columns[s]) >= 3 or len(columns[s]) == 2 < len(self.order)
        ]

    @precondition(lambda self: self.gap_columns())
    @rule(data=st.data())
    def move_into_a_column_gap(self, data: st.DataObject) -> None:
        """A drop between two neighbours of a column, which other columns' cards may
        separate in the project's order: in the column it lands between them; among
        those other cards, its new rank says where (the API does not specify it)."""
        columns = self.columns()
        stage = data.draw(st.sampled_from(self.gap_columns()), label="stage")
        movable = [c for c in self.order if self.stage[c] != stage or len(columns[stage]) >= 3]
        card = data.draw(st.sampled_from(movable), label="card")
        column = [c for c in columns[stage] if c != card]
        n = data.draw(st.integers(0, len(column) - 2), label="after the n-th card of the column")
        low, high = column[n], column[n + 1]
        where = {"afterBoardId": low, "beforeBoardId": high}
        current = self.version[card]
        moved = unwrap(self.move_request(card, stage, where, current))
        assert moved["version"] == current + 1, moved
        rank = {b["boardId"]: b["rank"] for b in self.listed()}  # a renumbering keeps order
        assert rank[low] < rank[card] < rank[high], (moved, rank)
        others = [c for c in self.order if c != card]
        index = others.index(low) + 1
        while others[index] != high and rank[others[index]] < rank[card]:
            index += 1
        self.place(card, stage, index)
        self.version[card] = current + 1

    @precondition(lambda self: len(self.order) >= 2)
    @rule(data=st.data())
    def move_stale(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["end", "before", "after"]), label="where")
        self.move(data, kind, stale=True)

    @precondition(lambda self: len(self.order) >= 2)
    @rule(data=st.data())
    def refused_move(self, data: st.DataObject) -> None:
        """Moves that must be refused (400) and change nothing: neighbours in the wrong
        order, next to itself, next to a deleted card."""
        card = data.draw(st.sampled_from(self.order), label="card")
        others = [c for c in self.order if c != card]
        choices: list[dict[str, str]] = [{"afterBoardId": card}, {"beforeBoardId": card}]
        if len(others) >= 2:
            n = data.draw(st.integers(0, len(others) - 2), label="between")
            choices.append({"afterBoardId": others[n + 1], "beforeBoardId": others[n]})
        if self.deleted:
            gone = data.draw(st.sampled_from(self.deleted), label="deleted")
            choices.append({data.draw(st.sampled_from(["afterBoardId", "beforeBoardId"])): gone})
        where = data.draw(st.sampled_from(choices), label="where")
        stage = data.draw(st.sampled_from(self.stages), label="stage")
        response = self.move_request(card, stage, where, self.version[card])
        assert response.status_code == 400, response.text

    def rename(self, data: st.DataObject, *, stale: bool) -> None:
        """A change that is not a move: ``If-Match`` current (in any of its spellings) or
        absent applies it, a version the card does not have yet is refused (412)."""
        card = data.draw(st.sampled_from(self.order), label="card")
        current = self.version[card]
        spellings = ["{}", '"{}"', 'W/"{}"'] + ([] if stale else [""])
        spelling = data.draw(st.sampled_from(spellings), label="If-Match")
        sent = current + 1 if stale else current  # a version it does not have yet
        headers = {"If-Match": spelling.format(sent)} if spelling else {}
        title = f"renamed {uuid.uuid4().hex[:6]}"
        response = self.call("PUT", f"/api/boards/{card}", json={"title": title}, headers=headers)
        if stale:
            assert response.status_code == 412, response.text
            return
        changed = unwrap(response)
        assert (changed["title"], changed["version"]) == (title, current + 1), changed
        self.version[card] = current + 1

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def rename_current(self, data: st.DataObject) -> None:
        self.rename(data, stale=False)

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def rename_stale(self, data: st.DataObject) -> None:
        self.rename(data, stale=True)

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        card = data.draw(st.sampled_from(self.order), label="card")
        unwrap(self.call("DELETE", f"/api/boards/{card}"))
        self.order.remove(card)
        del self.stage[card], self.version[card]
        self.deleted.append(card)

    @precondition(lambda self: self.deleted)
    @rule(data=st.data())
    def move_deleted(self, data: st.DataObject) -> None:
        card = data.draw(st.sampled_from(self.deleted), label="deleted")
        response = self.move_request(card, self.stages[0], {}, None)
        assert response.status_code == 404, response.text

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def api_matches_the_model(self) -> None:
        if not self.project:
            return
        listed = self.listed()
        ids = [b["boardId"] for b in listed]
        assert len(ids) == len(set(ids)), ids  # every card once
        assert set(ids) == set(self.order)  # none lost, none resurrected
        columns: dict[str, list[dict[str, Any]]] = {s: [] for s in self.stages}
        for b in listed:
            columns[b["customFields"]["stage"]].append(b)
        # the list is in column order, then rank order inside a column
        assert ids == [b["boardId"] for s in self.stages for b in columns[s]]
        assert {s: [b["boardId"] for b in cards] for s, cards in columns.items()} == (
            self.columns()
        )
        assert {b["boardId"]: b["version"] for b in listed} == self.version
        ranks = [b["rank"] for b in listed]
        assert len(set(ranks)) == len(ranks), ranks  # keys are unique in the project
        for cards in columns.values():
            keys = [b["rank"] for b in cards]
            assert all(a < b for a, b in itertools.pairwise(keys)), keys
        assert all(0 < len(r) <= MAX_LENGTH for r in ranks), ranks
        # the model's project-wide order is the rank order
        assert [b["boardId"] for b in sorted(listed, key=lambda b: b["rank"])] == self.order


async def test_kanban_order_follows_the_model(
    board: Client, users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    world = await build_world(users, issuer)

    class Bound(Kanban):
        pass

    Bound.board, Bound.owner, Bound.workspace = board, world.owner, world.a
    await run_machine(Bound, "kanban")
