"""The latency gate: Locust's statistics against the budgets in ``budgets.toml``.

Pure Python on purpose (no ``import locust``): the locustfile calls it between capacity
steps, the orchestrator after a run, and pytest tests it in the project's own environment.

A snapshot is what :func:`loadtests.stats.snapshot` writes: Locust's serialized entries
(``name``, ``method``, counts and the ``response_times`` histogram, ms -> count). The
percentiles here are computed from that histogram exactly as Locust computes them, so the
gate and Locust's own report agree. ``method`` is the HTTP method, or ``WS`` / ``SSE`` for
the realtime users, which time a frame from its trigger to its receipt.

Usage: ``python -m loadtests.gate results/smoke/stats.json [--enforce outer] [--set ...]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = (
    "Budget",
    "Check",
    "Entry",
    "Level",
    "apply_overrides",
    "capacity_level",
    "describe",
    "evaluate",
    "load_budgets",
    "load_snapshot",
    "merge",
    "percentile",
    "render_table",
)

BUDGETS_FILE = Path(__file__).with_name("budgets.toml")
REALTIME_METHODS = frozenset({"WS", "SSE"})
GROUPS = ("rest", "realtime", "all")
LATENCY_KEYS = ("avg_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms")
KEYS = (*LATENCY_KEYS, "error_ratio", "min_requests")


# --- statistics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One request name's statistics (or a merge of several)."""

    method: str
    name: str
    num_requests: int
    num_failures: int
    total_response_time: float
    max_response_time: float
    response_times: Mapping[int, int]

    @property
    def key(self) -> str:
        return f"{self.method} {self.name}"

    @property
    def avg_ms(self) -> float:
        return self.total_response_time / self.num_requests if self.num_requests else 0.0

    @property
    def error_ratio(self) -> float:
        return self.num_failures / self.num_requests if self.num_requests else 0.0

    def percentile(self, fraction: float) -> int:
        return percentile(self.response_times, fraction)

    def measure(self, key: str) -> float:
        """The value a budget key constrains."""
        if key == "avg_ms":
            return self.avg_ms
        if key == "max_ms":
            return self.max_response_time
        if key == "error_ratio":
            return self.error_ratio
        if key == "min_requests":
            return self.num_requests
        if key.startswith("p") and key.endswith("_ms"):
            return self.percentile(int(key[1:-3]) / 100)
        raise ValueError(f"unknown budget key {key!r}")


def percentile(response_times: Mapping[int, int], fraction: float) -> int:
    """Locust's percentile over its rounded histogram (``calculate_response_time_percentile``):
    the smallest bucket that at least ``fraction`` of the samples do not exceed."""
    total = sum(response_times.values())
    if total == 0:
        return 0
    at_or_below = int(total * fraction)
    seen = 0
    for bucket in sorted(response_times, reverse=True):
        seen += response_times[bucket]
        if total - seen <= at_or_below:
            return bucket
    return 0


def entry_from_locust(raw: Mapping[str, Any]) -> Entry:
    """An entry from Locust's ``StatsEntry.serialize()`` (JSON turns the ms keys to text)."""
    # Locust counts a request without a response time (``num_none_requests``) in
    # num_requests but not in the histogram; the realtime users always send one.
    return Entry(
        method=str(raw["method"]),
        name=str(raw["name"]),
        num_requests=int(raw["num_requests"]),
        num_failures=int(raw["num_failures"]),
        total_response_time=float(raw["total_response_time"]),
        max_response_time=float(raw["max_response_time"] or 0),
        response_times={int(float(k)): int(v) for k, v in raw["response_times"].items()},
    )


def merge(entries: Iterable[Entry], method: str, name: str) -> Entry:
    """Several entries as one: counts and histograms added up."""
    histogram: dict[int, int] = {}
    requests = failures = 0
    total = peak = 0.0
    for entry in entries:
        requests += entry.num_requests
        failures += entry.num_failures
        total += entry.total_response_time
        peak = max(peak, entry.max_response_time)
        for bucket, count in entry.response_times.items():
            histogram[bucket] = histogram.get(bucket, 0) + count
    return Entry(method, name, requests, failures, total, peak, histogram)


@dataclass(frozen=True)
class Snapshot:
    """One run's (or one capacity step's) statistics."""

    entries: tuple[Entry, ...]
    users: int = 0
    duration_s: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def group(self, name: str) -> Entry:
        if name == "rest":
            chosen = [e for e in self.entries if e.method not in REALTIME_METHODS]
        elif name == "realtime":
            chosen = [e for e in self.entries if e.method in REALTIME_METHODS]
        elif name == "all":
            chosen = list(self.entries)
        else:
            raise ValueError(f"unknown group {name!r} (one of {', '.join(GROUPS)})")
        return merge(chosen, "", name)

    def route(self, key: str) -> Entry | None:
        found = [e for e in self.entries if e.key == key]
        return merge(found, *key.split(" ", 1)) if found else None


def load_snapshot(path: Path) -> Snapshot:
    data = json.loads(path.read_text())
    return snapshot_from(data)


def snapshot_from(data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Snapshot:
    """Our snapshot format (a dict with ``entries``), or a bare ``--json-file`` list."""
    if isinstance(data, Mapping):
        raw_entries = data["entries"]
        meta = {k: v for k, v in data.items() if k != "entries"}
    else:
        raw_entries, meta = data, {}
    entries = tuple(entry_from_locust(raw) for raw in raw_entries)
    return Snapshot(
        entries,
        users=int(meta.get("users", 0)),
        duration_s=float(meta.get("duration_s", 0.0)),
        extra=meta,
    )


# --- budgets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """Limits on one target: a group (``rest``, ``realtime``, ``all``) or a route key."""

    target: str
    limits: Mapping[str, float]


@dataclass(frozen=True)
class Level:
    name: str
    title: str
    budgets: tuple[Budget, ...]


def _limits(where: str, raw: Mapping[str, Any]) -> dict[str, float]:
    unknown = set(raw) - set(KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown budget keys {sorted(unknown)} (known: {KEYS})")
    limits: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{where}.{key}: a non-negative number, not {value!r}")
        limits[key] = float(value)
    return limits


def parse_budgets(data: Mapping[str, Any]) -> dict[str, Level]:
    levels: dict[str, Level] = {}
    for name, raw in data.items():
        if not isinstance(raw, Mapping):
            raise ValueError(f"{name}: a table of budgets")
        unknown = set(raw) - {"title", "groups", "routes"}
        if unknown:
            raise ValueError(f"{name}: unknown keys {sorted(unknown)}")
        budgets = []
        for group, limits in raw.get("groups", {}).items():
            if group not in GROUPS:
                raise ValueError(f"{name}.groups.{group}: not a group ({', '.join(GROUPS)})")
            budgets.append(Budget(group, _limits(f"{name}.groups.{group}", limits)))
        for route, limits in raw.get("routes", {}).items():
            if " " not in route:
                raise ValueError(f"{name}.routes: {route!r} is not 'METHOD name'")
            budgets.append(Budget(route, _limits(f"{name}.routes.{route}", limits)))
        levels[name] = Level(name, str(raw.get("title", name)), tuple(budgets))
    return levels


def load_budgets(path: Path = BUDGETS_FILE) -> dict[str, Level]:
    return parse_budgets(tomllib.loads(path.read_text()))


def apply_overrides(levels: Mapping[str, Level], overrides: Iterable[str]) -> dict[str, Level]:
    """``LEVEL.TARGET.KEY=VALUE`` (``outer.rest.avg_ms=1``, ``tight.GET /api/x.p95_ms=5``):
    tighten or loosen one limit for this run, e.g. to show that the gate trips."""
    result = dict(levels)
    for override in overrides:
        spec, sep, value = override.partition("=")
        level_name, _, rest = spec.partition(".")
        target, _, key = rest.rpartition(".")
        if not sep or not target or key not in KEYS or level_name not in result:
            raise ValueError(
                f"--set {override!r}: expected LEVEL.TARGET.KEY=VALUE with LEVEL one of "
                f"{sorted(result)} and KEY one of {KEYS}"
            )
        number = float(value)
        level = result[level_name]
        budgets = list(level.budgets)
        for index, budget in enumerate(budgets):
            if budget.target == target:
                budgets[index] = Budget(target, {**budget.limits, key: number})
                break
        else:
            if target not in GROUPS and " " not in target:
                raise ValueError(f"--set {override!r}: {target!r} is not a group or a route")
            budgets.append(Budget(target, {key: number}))
        result[level_name] = Level(level.name, level.title, tuple(budgets))
    return result


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    level: str
    target: str
    key: str
    limit: float
    measured: float | None  # None: the target had no samples
    samples: int

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False  # a budget nobody exercised proves nothing
        if self.key == "min_requests":
            return self.measured >= self.limit
        return self.measured <= self.limit


def evaluate(snapshot: Snapshot, level: Level) -> list[Check]:
    checks = []
    for budget in level.budgets:
        entry = snapshot.group(budget.target) if budget.target in GROUPS else None
        if entry is None:
            entry = snapshot.route(budget.target)
        for key, limit in budget.limits.items():
            if entry is None or (entry.num_requests == 0 and key != "min_requests"):
                measured = None if entry is None else 0.0
                if key == "min_requests":
                    measured = 0.0
                checks.append(Check(level.name, budget.target, key, limit, measured, 0))
                continue
            checks.append(
                Check(
                    level.name,
                    budget.target,
                    key,
                    limit,
                    entry.measure(key),
                    entry.num_requests,
                )
            )
    return checks


def capacity_level(level: Level) -> Level:
    """The thresholds a capacity step must stay under: the level's group budgets without
    sample-count floors (a step's slice of the run is short; every kind still runs)."""
    budgets = tuple(
        Budget(b.target, {k: v for k, v in b.limits.items() if k != "min_requests"})
        for b in level.budgets
        if b.target in GROUPS
    )
    return Level(level.name, level.title, tuple(b for b in budgets if b.limits))


def describe(check: Check) -> str:
    """One line: ``rest avg_ms 143 ms > 100 ms``."""
    relation = "<" if check.key == "min_requests" else ">"
    return (
        f"{check.target} {check.key} {_show(check.key, check.measured)} "
        f"{relation} {_show(check.key, check.limit)}"
    )


def _show(key: str, value: float | None) -> str:
    if value is None:
        return "no samples"
    if key == "error_ratio":
        return f"{value * 100:.3f} %"
    if key == "min_requests":
        return f"{value:.0f}"
    if math.isinf(value):
        return "inf"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def render_table(checks: Sequence[Check], *, only_failed: bool = False) -> str:
    """A Markdown table (it reads fine in a terminal too)."""
    rows = [c for c in checks if not (only_failed and c.passed)]
    lines = [
        "| level | target | metric | budget | measured | samples | verdict |",
        "|---|---|---|---|---|---:|---|",
    ]
    lines.extend(
        f"| {c.level} | {c.target} | {c.key} | {_show(c.key, c.limit)} | "
        f"{_show(c.key, c.measured)} | {c.samples} | {'ok' if c.passed else 'FAILED'} |"
        for c in rows
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class Verdict:
    checks: tuple[Check, ...]
    enforced: frozenset[str]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.level in self.enforced and not c.passed]

    @property
    def reported_failures(self) -> list[Check]:
        return [c for c in self.checks if c.level not in self.enforced and not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failed


def judge(snapshot: Snapshot, levels: Mapping[str, Level], enforce: Iterable[str]) -> Verdict:
    enforced = frozenset(enforce)
    unknown = enforced - set(levels)
    if unknown:
        raise ValueError(f"no budget level {sorted(unknown)} (known: {sorted(levels)})")
    checks = [check for level in levels.values() for check in evaluate(snapshot, level)]
    return Verdict(tuple(checks), enforced)


def print_verdict(verdict: Verdict, out: Any = sys.stdout) -> None:
    levels = sorted({c.level for c in verdict.checks})
    for level in levels:
        mine = [c for c in verdict.checks if c.level == level]
        role = "enforced" if level in verdict.enforced else "reported only"
        bad = sum(not c.passed for c in mine)
        print(
            f"\nbudget level '{level}' ({role}): {len(mine) - bad}/{len(mine)} within budget",
            file=out,
        )
        if bad:
            print(render_table(mine, only_failed=True), file=out)
    if verdict.failed:
        print(f"\nGATE FAILED: {len(verdict.failed)} enforced budget(s) violated", file=out)
        print(render_table(verdict.failed), file=out)
    else:
        print(f"\ngate passed (enforced: {', '.join(sorted(verdict.enforced))})", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.gate", description=__doc__)
    parser.add_argument("snapshot", type=Path, help="stats.json of a run")
    parser.add_argument("--budgets", type=Path, default=BUDGETS_FILE)
    parser.add_argument("--enforce", action="append", default=None, help="level(s) that gate")
    parser.add_argument("--set", action="append", default=[], metavar="LEVEL.TARGET.KEY=VALUE")
    args = parser.parse_args(argv)
    levels = apply_overrides(load_budgets(args.budgets), args.set)
    verdict = judge(load_snapshot(args.snapshot), levels, args.enforce or ["outer"])
    print_verdict(verdict)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
