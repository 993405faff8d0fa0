"""The Markdown summaries of a run and of a capacity search (``summary.md``)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from loadtests import gate
from loadtests.profiles import CapacityPlan

__all__ = ("capacity_summary", "summary")

MB = 1024 * 1024


def _row(label: str, entry: gate.Entry, duration_s: float) -> str:
    rate = entry.num_requests / duration_s if duration_s else 0.0
    return (
        f"| {label} | {entry.num_requests} | {entry.num_failures} | {rate:.1f} | "
        f"{entry.avg_ms:.1f} | {entry.percentile(0.5)} | {entry.percentile(0.95)} | "
        f"{entry.percentile(0.99)} | {entry.max_response_time:.0f} |"
    )


HEADER = (
    "| what | requests | failures | per s | avg ms | p50 | p95 | p99 | max |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _processes(readings: Mapping[str, Any]) -> list[str]:
    wall = float(readings.get("wall_s") or 0.0)
    lines = [
        f"Machine busy: {float(readings.get('machine_busy', 0)) * 100:.0f} % of "
        f"{readings.get('cores')} cores over {wall:.0f} s (everything on it: the stack, "
        "Locust, PostgreSQL, Redis, other work). PostgreSQL's RSS counts its shared buffers "
        "once per backend. T39 asks RSS growth < 10 % after warm-up on a soak run.",
        "",
        "| process | CPU s | % of one core | RSS start MB | RSS end MB | RSS max MB | RSS growth |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in readings.get("services", []):
        share = r["cpu_s"] / wall * 100 if wall else 0.0
        growth = (r["rss_last"] - r["rss_first"]) / r["rss_first"] * 100 if r["rss_first"] else 0
        lines.append(
            f"| {r['name']} | {r['cpu_s']:.1f} | {share:.0f} | {r['rss_first'] / MB:.0f} | "
            f"{r['rss_last'] / MB:.0f} | {r['rss_max'] / MB:.0f} | {growth:+.0f} % |"
        )
    return lines


def _realtime(snapshot: gate.Snapshot) -> list[str]:
    duration = snapshot.duration_s or 1.0
    sockets = int(snapshot.extra.get("mix", {}).get("ChatUser", 0))
    streams = int(snapshot.extra.get("mix", {}).get("NotifiedUser", 0))
    ack = snapshot.route("WS chat send->ack")
    received = snapshot.route("WS chat send->receive")
    notified = snapshot.route("SSE comment->notification")
    lines = ["## Realtime", ""]
    if ack and received:
        lines.append(
            f"Chat: {sockets} sockets, {ack.num_requests / duration:.1f} messages/s sent, "
            f"{received.num_requests / duration:.1f} deliveries/s to other participants; "
            f"send->receive p50 {received.percentile(0.5)} ms, p95 "
            f"{received.percentile(0.95)} ms, p99 {received.percentile(0.99)} ms."
        )
    if notified:
        lines.append(
            f"Notifications: {streams} SSE streams, {notified.num_requests} timed deliveries; "
            f"comment->notification p50 {notified.percentile(0.5)} ms, p99 "
            f"{notified.percentile(0.99)} ms."
        )
    return [*lines, ""]


def summary(
    name: str,
    snapshot: gate.Snapshot,
    verdict: gate.Verdict,
    readings: Mapping[str, Any],
    levels: Mapping[str, gate.Level],
) -> str:
    duration = snapshot.duration_s
    mix = ", ".join(f"{k} {v}" for k, v in sorted(snapshot.extra.get("mix", {}).items()))
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Load test '{name}': {'PASSED' if verdict.passed else 'FAILED'}",
        "",
        f"{when}; {snapshot.users} users ({mix}) for {duration:.0f} s. "
        f"Gate enforced: {', '.join(sorted(verdict.enforced))}.",
        "",
        "## Overall",
        "",
        HEADER,
        _row("REST (every HTTP request)", snapshot.group("rest"), duration),
        _row("realtime (WS + SSE samples)", snapshot.group("realtime"), duration),
        "",
        *_realtime(snapshot),
        "## Budgets",
        "",
    ]
    for level in levels.values():
        mine = [c for c in verdict.checks if c.level == level.name]
        role = "enforced" if level.name in verdict.enforced else "reported only"
        bad = sum(not c.passed for c in mine)
        lines += [
            f"### {level.name} ({role}): {len(mine) - bad}/{len(mine)} within budget",
            "",
            level.title,
            "",
            gate.render_table(mine),
            "",
        ]
    lines += ["## Every request name", "", HEADER]
    for entry in sorted(snapshot.entries, key=lambda e: (e.method in gate.REALTIME_METHODS, e.key)):
        lines.append(_row(f"{entry.method} {entry.name}", entry, duration))
    errors = snapshot.extra.get("errors", [])
    if errors:
        lines += ["", "## Failures", "", "| request | error | count |", "|---|---|---:|"]
        for error in errors:
            text = str(error["error"]).replace("|", "/")[:160]
            lines.append(f"| {error['method']} {error['name']} | {text} | {error['occurrences']} |")
    lines += ["", "## Stack processes", "", *_processes(readings), ""]
    return "\n".join(lines)


def capacity_summary(
    steps: Sequence[Mapping[str, Any]], plan: CapacityPlan, level: str, readings: Mapping[str, Any]
) -> tuple[str, bool]:
    """The report and whether a maximum was found (a step passed, and one tripped or the
    search reached ``max_users``)."""
    passed = [s for s in steps if s.get("passed")]
    tripped = next((s for s in steps if not s.get("passed")), None)
    best = max((int(s["users"]) for s in passed), default=0)
    lines = [
        "# Capacity search",
        "",
        f"Method (Mattermost load-test-ng, T37): start at {plan.start} users, add {plan.step} "
        f"every {plan.step_s} s, judge each step on its samples after {plan.settle_s} s "
        f"against the '{level}' group budgets; stop at the first step over a threshold.",
        "",
    ]
    if tripped is not None:
        lines.append(
            f"**Maximum supported users: {best}.** At {tripped['users']} users: "
            + "; ".join(tripped.get("failed", []))
            + "."
        )
    elif steps:
        lines.append(f"**No threshold tripped up to {best} users** (the search's ceiling).")
    else:
        lines.append("**No step completed.**")
    lines += [
        "",
        "| users | requests | per s | REST avg ms | REST p99 | errors | chat p99 | SSE p99 | "
        "verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for step in steps:
        snap = gate.snapshot_from(step)
        rest = snap.group("rest")
        chat = snap.route("WS chat send->receive")
        sse = snap.route("SSE comment->notification")
        rate = rest.num_requests / snap.duration_s if snap.duration_s else 0.0
        lines.append(
            f"| {snap.users} | {rest.num_requests} | {rate:.0f} | {rest.avg_ms:.1f} | "
            f"{rest.percentile(0.99)} | {snap.group('all').error_ratio * 100:.3f} % | "
            f"{chat.percentile(0.99) if chat else '-'} | {sse.percentile(0.99) if sse else '-'} | "
            f"{'ok' if step.get('passed') else 'over'} |"
        )
    lines += ["", "## Stack processes", "", *_processes(readings), ""]
    found = best > 0 and (tripped is not None or best >= plan.max_users - plan.step + 1)
    return "\n".join(lines), found
