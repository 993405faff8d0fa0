"""The real-time benchmark's report (:mod:`bench.realtime`): the targets of issue 20,
item 2, with ratios, and the step tables, from the steps' figures (no I/O)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.realtime_book import Plan, RestRound, StepRun, max_sustained, paired_median, sustained


def step_line(run: StepRun) -> str:
    lost = f"refused {run.refused}, lost {run.lost}, dup {run.duplicated}"
    if run.unanswered:
        lost += f", unanswered {run.unanswered}"
    bound = ", CLIENT-BOUND" if run.client_bound else ""
    pace = "" if run.kept_pace else f", sends took {run.send_span_s:.1f} s"
    cpu = " ".join(f"{k} {v:.2f}" for k, v in run.server_cpu.items())
    return (
        f"p50 {run.p50_ms:.1f} / p95 {run.p95_ms:.1f} / p99 {run.p99_ms:.1f} ms, "
        f"{run.delivered_per_s:,.0f} deliveries/s, {lost}; client {run.client_cpu:.2f} core"
        f"{bound}{pace}; cores: {cpu}; busy {run.busy:.0%}"
    )


@dataclass(frozen=True)
class Goal:
    target: str
    goal: str
    measured: str
    ratio: float  # to a ceiling; for an absolute goal, the measured figure over the goal's
    met: bool | None  # None: not measured at the size the goal names, or no goal


def _med(values: Iterable[float]) -> float:
    found = [v for v in values if not math.isnan(v)]
    return statistics.median(found) if found else math.nan


def _fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}{unit}"


def _steps(rates: Iterable[float]) -> str:
    return ", ".join(f"{r:g}" for r in sorted(rates))


def _chat_goals(
    plan: Plan,
    chat: dict[float, list[StepRun]],
    raw: dict[float, list[StepRun]],
    raw_inserts: list[float],
) -> list[Goal]:
    full = plan.chats == 100 and plan.members == 10
    shape = f"{plan.chats} chats x {plan.members} ({plan.sockets:,} sockets)"
    best = max_sustained(chat, plan.p99_limit_ms)
    above = [r for r in sorted(chat) if best is None or r > best]
    note = ""
    if above and any(run.client_bound for run in chat[above[0]]):
        note = f"; the {above[0]:g} step was client-bound"
    found = [
        Goal(
            f"chat, {shape}: sustained rate (0 refused/lost/dup, p99 <= {plan.p99_limit_ms:g} ms)",
            ">= 1,000 msg/s (10k deliveries/s)",
            f"{_fmt(best, ' msg/s', 0)} (steps {_steps(chat)}{note})",
            (best or 0.0) / 1000,
            (best is not None and best >= 1000) if full else None,
        )
    ]
    for rate in sorted(chat):
        ours = [r.p99_ms for r in chat[rate]]
        theirs = [r.p99_ms for r in raw.get(rate, [])]
        ratio = paired_median(ours, theirs) if len(ours) == len(theirs) else math.nan
        found.append(
            Goal(
                f"chat p99 send -> deliver at {rate:g} msg/s vs the raw fan-out",
                "<= 2x raw (goal <= 25 ms)",
                f"{_fmt(_med(ours), ' ms')} vs raw {_fmt(_med(theirs), ' ms')}",
                ratio,
                None if math.isnan(ratio) else ratio <= 2.0,
            )
        )
    if chat and raw_inserts:
        top = max(chat)
        stored = [(r.stored or 0) / max(r.send_span_s, r.seconds) for r in chat[top]]
        found.append(
            Goal(
                f"chat messages stored/s at {top:g} msg/s offered vs the raw insert loop",
                "(bounded by the offered rate)",
                f"{_fmt(_med(stored), '/s', 0)} vs {_fmt(_med(raw_inserts), ' rows/s', 0)}",
                paired_median(stored, raw_inserts[: len(stored)]),
                None,
            )
        )
    return found


def goals(
    plan: Plan,
    chat: dict[float, list[StepRun]],
    raw: dict[float, list[StepRun]],
    raw_inserts: list[float],
    sse: list[StepRun],
    rest: list[RestRound],
) -> list[Goal]:
    found = _chat_goals(plan, chat, raw, raw_inserts)
    if rest:
        msg = [r.rates["message"] for r in rest]
        p99 = _med(r.p99_ms["message"] for r in rest)
        found.append(
            Goal(
                "one chat, 16 concurrent writers (REST, wrk -c16)",
                ">= 1,000 msg/s",
                f"{_fmt(_med(msg), ' msg/s', 0)} (p99 {_fmt(p99, ' ms', 0)})",
                _med(msg) / 1000,
                _med(msg) >= 1000,
            )
        )
        for name in ("message", "task", "comment"):
            ratio = paired_median([r.rates[name] for r in rest], [r.raw for r in rest])
            found.append(
                Goal(
                    f"REST insert: {name} vs the raw insert loop (16 connections each)",
                    ">= 0.6",
                    f"{_fmt(_med(r.rates[name] for r in rest), '/s', 0)} vs "
                    f"{_fmt(_med(r.raw for r in rest), ' rows/s', 0)}",
                    ratio,
                    ratio >= 0.6,
                )
            )
    if sse:
        # Capacity: the highest comment rate whose notifications all arrived, on time or not.
        capacity = max_sustained({r.rate: [r] for r in sse}, math.inf)
        at = next((r for r in sse if r.rate == capacity), None)
        measured = (
            f"{_fmt(at.p99_ms, ' ms')} at {capacity:g} comments/s "
            f"({at.delivered_per_s:,.0f} notifications/s; steps {_steps(r.rate for r in sse)})"
            if at is not None
            else f"no step delivered everything (steps {_steps(r.rate for r in sse)})"
        )
        found.append(
            Goal(
                f"notification lag, {plan.sockets:,} SSE streams: commit -> stream p99 at the "
                "highest comment rate delivered in full",
                "<= 1 s",
                measured,
                at.p99_ms / plan.sse_p99_limit_ms if at is not None else math.nan,
                at is not None and at.p99_ms <= plan.sse_p99_limit_ms,
            )
        )
    return found


def _cores(runs: Sequence[StepRun]) -> str:
    names = sorted({k for r in runs for k in r.server_cpu})
    return " ".join(f"{k} {_med(r.server_cpu.get(k, math.nan) for r in runs):.2f}" for k in names)


def _step_rows(runs_by_rate: dict[float, list[StepRun]], limit: float) -> list[str]:
    rows = []
    for rate in sorted(runs_by_rate):
        runs = runs_by_rate[rate]
        refusals: Counter[str] = Counter()
        for r in runs:
            refusals.update(r.refusals)
        why = "; ".join(f"{k} x{v}" for k, v in refusals.most_common(3))
        cells = [
            runs[0].target,
            f"{rate:g}",
            _fmt(_med(r.p50_ms for r in runs)),
            _fmt(_med(r.p95_ms for r in runs)),
            _fmt(_med(r.p99_ms for r in runs)),
            _fmt(_med(r.answer_p99_ms for r in runs)),
            _fmt(_med(r.delivered_per_s for r in runs), "", 0),
            str(sum(r.refused for r in runs)),
            str(sum(r.lost for r in runs)),
            str(sum(r.duplicated for r in runs)),
            str(sum(r.unanswered for r in runs)),
            f"{max(r.client_cpu for r in runs):.2f}"
            + (" (client-bound)" if any(r.client_bound for r in runs) else ""),
            _cores(runs),
            f"{_med(r.busy for r in runs):.0%}",
            "yes" if sustained(runs, limit) else "**no**",
            why or "-",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


_STEP_HEADER = (
    "| target | rate/s | p50 ms | p95 ms | p99 ms | answer p99 ms | deliveries/s | refused "
    "| lost | dup | unanswered | client CPU | server cores | busy | sustained | errors |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---|"
)


def report(
    plan: Plan,
    chat: dict[float, list[StepRun]],
    raw: dict[float, list[StepRun]],
    raw_inserts: list[float],
    sse: list[StepRun],
    rest: list[RestRound],
    machine: str,
) -> tuple[str, list[Goal]]:
    found = goals(plan, chat, raw, raw_inserts, sse, rest)
    lines = [machine, "", "## Targets (issue 20, item 2)", ""]
    lines += [
        "Ratio: ours over the ceiling (the median of per-round ratios), or, for an absolute "
        "goal, the measured figure over the goal's.",
        "",
    ]
    lines += [
        "| target | goal | measured | ratio | met |",
        "|---|---|---|---:|---|",
    ]
    for g in found:
        met = "n/a" if g.met is None else ("yes" if g.met else "**no**")
        ratio = _fmt(g.ratio, "", 2)
        lines.append(f"| {g.target} | {g.goal} | {g.measured} | {ratio} | {met} |")
    lines += [
        "",
        f"## Chat fan-out: medians over {plan.rounds} rounds (refused/lost/dup summed), "
        f"{plan.seconds:g} s of sends per step; latency: send -> each socket of the chat "
        "(the sender's too); answer: send -> ack",
        "",
        _STEP_HEADER,
    ]
    for rate in sorted(set(chat) | set(raw)):
        for runs in (chat.get(rate), raw.get(rate)):
            if runs:
                lines += _step_rows({rate: runs}, plan.p99_limit_ms)
    if raw_inserts:
        per_round = ", ".join(f"{v:,.0f}" for v in raw_inserts)
        lines += ["", f"Raw psycopg insert loop (16 connections), per round: {per_round} rows/s."]
    if sse:
        lines += [
            "",
            f"## Notifications: {plan.sockets:,} SSE streams; a comment notifies the "
            f"{plan.members - 1} other members of its team; latency: the comment's 201 "
            "(after its commit) -> on each stream; answer: the POST's own latency",
            "",
            _STEP_HEADER,
        ]
        lines += _step_rows({r.rate: [r] for r in sse}, math.inf)
    if rest:
        lines += ["", "## REST writes (wrk -t1 -c16) next to the raw insert loop", ""]
        lines += [
            "| round | raw rows/s | message/s | task/s | comment/s |",
            "|---:|---:|---:|---:|---:|",
        ]
        for n, r in enumerate(rest, 1):
            cells = [str(n), f"{r.raw:,.0f}"] + [
                f"{r.rates[k]:,.0f} (p99 {r.p99_ms[k]:.0f} ms)"
                for k in ("message", "task", "comment")
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), found
