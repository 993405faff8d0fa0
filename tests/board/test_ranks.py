"""Rank keys: order, strictness, and bounded growth (T15) under any sequence of inserts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wealist.board.ranks import DIGITS, MAX_LENGTH, between, spread


class Column:
    """A column as the service keeps it: keys in order, renumbered when one grows long."""

    def __init__(self) -> None:
        self.cards: list[tuple[str, int]] = []  # (rank, card id), sorted by rank
        self.renumbered = 0

    def insert(self, position: int, card: int) -> None:
        before = self.cards[position - 1][0] if position > 0 else None
        after = self.cards[position][0] if position < len(self.cards) else None
        key = between(before, after)
        if len(key) > MAX_LENGTH:
            self.cards = [
                (k, c) for k, (_, c) in zip(spread(len(self.cards)), self.cards, strict=True)
            ]
            self.renumbered += 1
            self.insert(position, card)
            return
        assert (before is None or before < key) and (after is None or key < after)
        self.cards.insert(position, (key, card))

    def check(self) -> None:
        keys = [k for k, _ in self.cards]
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)
        assert all(len(k) <= MAX_LENGTH and not k.endswith("0") for k in keys)


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


@pytest.mark.parametrize("spot", ["front", "back", "after-first"])
def test_ten_thousand_inserts_at_one_spot_stay_bounded(spot: str) -> None:
    column = Column()
    column.insert(0, -1)
    column.insert(1, -2)
    for card in range(10_000):
        position = {"front": 0, "back": len(column.cards), "after-first": 1}[spot]
        column.insert(position, card)
    column.check()
    expected = {
        "front": [*range(9_999, -1, -1), -1, -2],
        "back": [-1, -2, *range(10_000)],
        "after-first": [-1, *range(9_999, -1, -1), -2],
    }[spot]
    assert [c for _, c in column.cards] == expected


def test_jittered_inserts_keep_the_order_of_a_list() -> None:
    rng = random.Random(7)
    column, model = Column(), []
    for card in range(3_000):
        position = rng.randint(0, len(model))
        column.insert(position, card)
        model.insert(position, card)
    column.check()
    assert [c for _, c in column.cards] == model


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=300))
def test_any_insert_sequence_matches_a_list(choices: list[int]) -> None:
    column, model = Column(), []
    for card, choice in enumerate(choices):
        position = choice % (len(model) + 1)
        column.insert(position, card)
        model.insert(position, card)
    column.check()
    assert [c for _, c in column.cards] == model
