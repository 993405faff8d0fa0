"""The HTTP benchmark's arithmetic: a ratio is the median of per-round paired ratios."""

from __future__ import annotations

import pytest
from bench.http import Endpoint, Run, Target, summarize


def run(rate: float) -> Run:
    return Run(rate=rate, p50_ms=1.0, p99_ms=2.0, busy=0.5)


def test_each_round_pairs_the_target_with_its_ceiling() -> None:
    # Other work slowed the machine in round 2 for both servers: each round's ratio is
    # still 0.5, which is what the run reports.
    target = Target(
        "t",
        Endpoint("ours", "http://x"),
        {"a": Endpoint("ceiling", "http://y")},
        {"a": 0.6},
        runs={
            "ours": [run(500), run(100), run(300)],
            "a": [run(1000), run(200), run(600)],
        },
    )
    (row,) = summarize(target)
    assert row.ratio == pytest.approx(0.5)
    assert not row.met  # 0.5 < 0.6: a miss is reported as one
    assert "300 req/s" in row.ours and "600 req/s" in row.theirs


def test_a_missing_round_is_an_error() -> None:
    target = Target(
        "t",
        Endpoint("ours", "http://x"),
        {"a": Endpoint("ceiling", "http://y")},
        {"a": 0.6},
        runs={"ours": [run(1), run(2)], "a": [run(1)]},
    )
    with pytest.raises(ValueError):
        summarize(target)
