"""The load-test gate: Locust's numbers against loadtests/budgets.toml (no Locust here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from loadtests.profiles import CapacityPlan

from loadtests import gate, report

ROOT = Path(__file__).resolve().parents[2]


def raw_entry(method: str, name: str, times: dict[int, int], failures: int = 0) -> dict[str, Any]:
    """An entry as Locust's StatsEntry.serialize() gives it, after a JSON round trip."""
    count = sum(times.values())
    return {
        "method": method,
        "name": name,
        "num_requests": count,
        "num_none_requests": 0,
        "num_failures": failures,
        "total_response_time": float(sum(ms * n for ms, n in times.items())),
        "max_response_time": float(max(times, default=0)),
        "min_response_time": min(times, default=None),
        "total_content_length": 0,
        "response_times": {str(ms): n for ms, n in times.items()},
    }


def snapshot(*entries: dict[str, Any], **meta: Any) -> gate.Snapshot:
    return gate.snapshot_from({"entries": list(entries), "users": 10, "duration_s": 60, **meta})


def level(**targets: dict[str, float]) -> gate.Level:
    return gate.Level("t", "test", tuple(gate.Budget(k, v) for k, v in targets.items()))


# --- percentiles, as Locust computes them ------------------------------------------------


def test_percentiles_follow_locusts_rule() -> None:
    # Locust walks the buckets from the slowest down and stops at the first one with at
    # most int(n * q) samples left below it: one slow sample in a hundred is the p99, and
    # the 90th of 100 samples already counts as slow.
    times = {10: 90, 100: 9, 1000: 1}
    assert gate.percentile(times, 0.5) == 10
    assert gate.percentile(times, 0.89) == 10
    assert gate.percentile(times, 0.9) == 100
    assert gate.percentile(times, 0.95) == 100
    assert gate.percentile(times, 0.99) == 1000
    assert gate.percentile(times, 1.0) == 1000
    assert gate.percentile({}, 0.99) == 0


def test_entries_read_locusts_serialized_form() -> None:
    entry = gate.entry_from_locust(json.loads(json.dumps(raw_entry("GET", "/x", {5: 3, 7: 1}))))
    assert entry.key == "GET /x"
    assert entry.response_times == {5: 3, 7: 1}
    assert entry.avg_ms == pytest.approx(5.5)
    assert entry.percentile(0.99) == 7


def test_groups_split_http_from_realtime() -> None:
    snap = snapshot(
        raw_entry("GET", "/a", {10: 10}),
        raw_entry("POST", "/b", {30: 10}, failures=1),
        raw_entry("WS", "chat send->receive", {500: 10}),
        raw_entry("SSE", "comment->notification", {700: 10}),
    )
    rest, realtime, every = snap.group("rest"), snap.group("realtime"), snap.group("all")
    assert (rest.num_requests, rest.num_failures, rest.avg_ms) == (20, 1, 20.0)
    assert (realtime.num_requests, realtime.percentile(0.99)) == (20, 700)
    assert every.num_requests == 40
    assert every.error_ratio == pytest.approx(1 / 40)


# --- checks -----------------------------------------------------------------------------


def test_each_kind_of_limit_passes_within_and_fails_beyond() -> None:
    snap = snapshot(raw_entry("GET", "/a", {50: 99, 3000: 1}, failures=1))
    checks = {
        c.key: c
        for c in gate.evaluate(
            snap, level(rest={"avg_ms": 100, "p99_ms": 2000, "error_ratio": 0.00025})
        )
    }
    assert checks["avg_ms"].measured == pytest.approx(79.5)
    assert checks["avg_ms"].passed
    assert checks["p99_ms"].measured == 3000
    assert not checks["p99_ms"].passed
    assert checks["error_ratio"].measured == pytest.approx(0.01)
    assert not checks["error_ratio"].passed


def test_a_budget_nobody_exercised_fails() -> None:
    snap = snapshot(raw_entry("GET", "/a", {5: 10}))
    checks = gate.evaluate(
        snap,
        level(**{"WS chat send->receive": {"p99_ms": 250.0}, "GET /a": {"min_requests": 11.0}}),
    )
    by_target = {c.target: c for c in checks}
    assert by_target["WS chat send->receive"].measured is None
    assert not by_target["WS chat send->receive"].passed
    assert by_target["GET /a"].measured == 10
    assert not by_target["GET /a"].passed


def test_only_enforced_levels_fail_the_verdict() -> None:
    levels = {
        "outer": gate.Level("outer", "o", (gate.Budget("rest", {"avg_ms": 100}),)),
        "tight": gate.Level("tight", "t", (gate.Budget("rest", {"avg_ms": 1}),)),
    }
    snap = snapshot(raw_entry("GET", "/a", {20: 10}))
    verdict = gate.judge(snap, levels, ["outer"])
    assert verdict.passed
    assert [c.level for c in verdict.reported_failures] == ["tight"]
    assert not gate.judge(snap, levels, ["outer", "tight"]).passed
    with pytest.raises(ValueError, match="no budget level"):
        gate.judge(snap, levels, ["nonsense"])


# --- the budgets file -----------------------------------------------------------------------


def test_the_shipped_budgets_hold_the_mattermost_outer_bounds() -> None:
    levels = gate.load_budgets()
    assert {"outer", "tight"} <= set(levels)
    rest = next(b for b in levels["outer"].budgets if b.target == "rest")
    assert rest.limits["avg_ms"] == 100
    assert rest.limits["p99_ms"] == 2000
    assert rest.limits["error_ratio"] == 0.00025
    tight = {b.target: b.limits for b in levels["tight"].budgets}
    assert tight["WS chat send->receive"] == {"p50_ms": 100, "p99_ms": 250}  # T38


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[x.groups.rest]\navg_msec = 1", "unknown budget keys"),
        ("[x.groups.rest]\navg_ms = -1", "non-negative"),
        ('[x.groups.rest]\navg_ms = "fast"', "non-negative"),
        ("[x.groups.everything]\navg_ms = 1", "not a group"),
        ('[x.routes."/api/no-method"]\navg_ms = 1', "METHOD name"),
        ("[x]\nbudget = 1", "unknown keys"),
    ],
)
def test_mistakes_in_a_budgets_file_are_named(text: str, problem: str) -> None:
    import tomllib

    with pytest.raises(ValueError, match=problem):
        gate.parse_budgets(tomllib.loads(text))


def test_overrides_tighten_a_group_or_add_a_route_budget() -> None:
    levels = gate.load_budgets()
    changed = gate.apply_overrides(
        levels, ["outer.rest.avg_ms=1", "tight.GET /api/workspaces/all.p50_ms=2"]
    )
    rest = next(b for b in changed["outer"].budgets if b.target == "rest")
    assert rest.limits["avg_ms"] == 1
    assert rest.limits["p99_ms"] == 2000  # the others stay
    route = next(b for b in changed["tight"].budgets if b.target == "GET /api/workspaces/all")
    assert route.limits["p50_ms"] == 2
    assert next(b for b in levels["outer"].budgets if b.target == "rest").limits["avg_ms"] == 100
    for wrong in (
        "outer.rest.avg_ms",
        "outer.rest.speed=1",
        "nope.rest.avg_ms=1",
        "outer.x.p99_ms=1",
    ):
        with pytest.raises(ValueError, match="--set"):
            gate.apply_overrides(levels, [wrong])


def test_capacity_thresholds_are_the_group_budgets_without_floors() -> None:
    outer = gate.load_budgets()["outer"]
    capacity = gate.capacity_level(outer)
    assert {b.target for b in capacity.budgets} == {"rest", "realtime"}
    assert all("min_requests" not in b.limits for b in capacity.budgets)


# --- the command line -----------------------------------------------------------------------


def write_snapshot(path: Path, avg_ms: int) -> Path:
    entries = [
        raw_entry("GET", "/api/workspaces/all", {avg_ms: 400}),
        raw_entry("WS", "chat send->receive", {20: 100}),
    ]
    path.write_text(json.dumps({"entries": entries, "users": 5, "duration_s": 60}))
    return path


def run_gate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadtests.gate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_gate_exits_non_zero_with_a_table_of_what_failed(tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text("[outer.groups.rest]\navg_ms = 100\np99_ms = 2000\n")
    fast = write_snapshot(tmp_path / "fast.json", 30)
    ok = run_gate(str(fast), "--budgets", str(budgets))
    assert ok.returncode == 0, ok.stdout
    assert "gate passed" in ok.stdout

    slow = write_snapshot(tmp_path / "slow.json", 150)
    failed = run_gate(str(slow), "--budgets", str(budgets))
    assert failed.returncode == 1
    assert "GATE FAILED" in failed.stdout
    assert "| outer | rest | avg_ms | 100 ms | 150 ms | 400 | FAILED |" in failed.stdout

    tightened = run_gate(str(fast), "--budgets", str(budgets), "--set", "outer.rest.avg_ms=10")
    assert tightened.returncode == 1
    assert "| outer | rest | avg_ms | 10 ms | 30 ms | 400 | FAILED |" in tightened.stdout


def test_nothing_outside_the_locust_process_imports_locust() -> None:
    """pytest, the driver and the gate must stay unpatched: only the locustfile imports it."""
    code = (
        "import sys\n"
        "import loadtests.gate, loadtests.stats, loadtests.report, loadtests.run, "
        "loadtests.seed, loadtests.stack, loadtests.sampler\n"
        "print('locust' in sys.modules, 'gevent' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "False"]


# --- reports ----------------------------------------------------------------------------


def test_the_capacity_report_names_the_maximum_and_the_threshold_that_tripped() -> None:
    def step(users: int, avg: int, passed: bool, failed: list[str]) -> dict[str, Any]:
        return {
            "users": users,
            "duration_s": 30,
            "entries": [raw_entry("GET", "/a", {avg: 100})],
            "passed": passed,
            "failed": failed,
        }

    plan = CapacityPlan(start=20, step=20, max_users=200)
    steps = [
        step(20, 10, True, []),
        step(40, 40, True, []),
        step(60, 140, False, ["rest avg_ms 140 ms > 100 ms"]),
    ]
    text, found = report.capacity_summary(steps, plan, "outer", {"services": []})
    assert found
    assert "**Maximum supported users: 40.** At 60 users: rest avg_ms 140 ms > 100 ms." in text
    _, nothing = report.capacity_summary([step(20, 140, False, ["x"])], plan, "outer", {})
    assert not nothing


def test_the_run_summary_shows_the_verdict_the_chat_figures_and_the_processes() -> None:
    snap = snapshot(
        raw_entry("GET", "/api/workspaces/all", {10: 50}),
        raw_entry("WS", "chat send->ack", {20: 30}),
        raw_entry("WS", "chat send->receive", {30: 90}),
        mix={"ChatUser": 4, "NotifiedUser": 0},
    )
    levels = {"outer": gate.Level("outer", "o", (gate.Budget("rest", {"avg_ms": 5.0}),))}
    verdict = gate.judge(snap, levels, ["outer"])
    mb = 1024 * 1024
    readings = {
        "wall_s": 60.0,
        "machine_busy": 0.5,
        "cores": 2,
        "services": [
            {
                "name": "chat",
                "cpu_s": 6.0,
                "rss_first": 100 * mb,
                "rss_last": 120 * mb,
                "rss_max": 125 * mb,
            },
        ],
    }
    text = report.summary("smoke", snap, verdict, readings, levels)
    assert text.startswith("# Load test 'smoke': FAILED")
    assert "Chat: 4 sockets, 0.5 messages/s sent, 1.5 deliveries/s" in text
    assert "| chat | 6.0 | 10 | 100 | 120 | 125 | +20 % |" in text
    assert "| outer | rest | avg_ms | 5.0 ms | 10 ms | 50 | FAILED |" in text
