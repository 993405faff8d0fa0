"""The real-time benchmark's book-keeping (:mod:`bench.realtime`), free of I/O.

A :class:`Tally` records one step: each message sent, with the sockets (or streams) that
must receive it, its answer (an ack, or a refusal), and each arrival. From it come the
step's :class:`Outcome` (refused, unanswered, lost, duplicated, the latencies) and, merged
over the client processes, a :class:`StepRun`; :func:`sustained` and :func:`max_sustained`
say which rates the service held. Times are ``time.monotonic()``: one clock for every
process of the machine.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CLIENT_BOUND = 0.85  # a client process this busy (of one core) may have been the limit
PACE_SLACK = 1.05  # the sends of a step may take this much longer than planned
_ID = '"clientMessageId":"'
_CODE = '"code":"'


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    chats: int = 100
    members: int = 10
    rates: tuple[float, ...] = (100.0, 300.0, 1000.0)  # chat messages/s in total
    sse_rates: tuple[float, ...] = (10.0, 30.0, 100.0)  # board comments/s in total
    seconds: float = 5.0  # sending time of a step
    rounds: int = 5
    grace_s: float = 5.0  # how long a step waits for its last deliveries
    clients: int = 2  # client processes
    p99_limit_ms: float = 100.0  # a chat step is sustained with p99 send -> deliver within
    sse_p99_limit_ms: float = 1000.0  # a notification step: p99 commit -> stream within

    @property
    def sockets(self) -> int:
        return self.chats * self.members


# --- accounting -----------------------------------------------------------------------------


def quantiles(values: Iterable[float], qs: Sequence[float]) -> list[float]:
    """Nearest-rank percentiles (the smallest value with at least q of the values at or
    below it); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return [math.nan for _ in qs]
    n = len(ordered)
    return [ordered[min(n - 1, max(0, math.ceil(q * n) - 1))] for q in qs]


def percentile(values: Iterable[float], q: float) -> float:
    return quantiles(values, (q,))[0]


@dataclass
class Outcome:
    """What one step (or a client process's share of it) saw."""

    sent: int = 0
    acked: int = 0
    refused: int = 0  # answered with an error (an ERROR frame, a non-2xx)
    unanswered: int = 0  # neither acked nor refused within the grace period
    expected: int = 0  # deliveries due: every recipient of every message not refused
    delivered: int = 0  # distinct (socket, message) deliveries
    lost: int = 0  # expected, not delivered within the grace period
    duplicated: int = 0  # a message delivered again on the same socket
    stray: int = 0  # a delivery of a message not sent in the step, or to a non-recipient
    latencies_ms: list[float] = field(default_factory=list)  # send -> each delivery
    lag_ms: list[float] = field(default_factory=list)  # its answer -> each delivery (>= 0)
    answer_ms: list[float] = field(default_factory=list)  # send -> its ack (or 2xx)
    refusals: dict[str, int] = field(default_factory=dict)  # error code -> count
    first_sent_at: float = math.inf
    last_sent_at: float = -math.inf
    last_delivered_at: float = -math.inf


def merge(parts: Iterable[Outcome]) -> Outcome:
    """The client processes' shares of one step, as one."""
    total = Outcome()
    refusals: Counter[str] = Counter()
    for part in parts:
        for name in (
            "sent",
            "acked",
            "refused",
            "unanswered",
            "expected",
            "delivered",
            "lost",
            "duplicated",
            "stray",
        ):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.latencies_ms += part.latencies_ms
        total.lag_ms += part.lag_ms
        total.answer_ms += part.answer_ms
        refusals.update(part.refusals)
        total.first_sent_at = min(total.first_sent_at, part.first_sent_at)
        total.last_sent_at = max(total.last_sent_at, part.last_sent_at)
        total.last_delivered_at = max(total.last_delivered_at, part.last_delivered_at)
    total.refusals = dict(refusals)
    return total


class Tally:
    """The book of one step: what was sent to whom, answered, delivered where and when.

    ``recipients`` of a message are the sockets (or streams) that must receive it; a socket
    counts each message once, a second arrival is a duplicate. Times are
    ``time.monotonic()`` (one clock for every process of the machine)."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[float, tuple[int, ...]]] = {}
        self.answers: dict[str, tuple[bool, float]] = {}
        self.refusals: Counter[str] = Counter()
        self.seen: defaultdict[int, set[str]] = defaultdict(set)
        self.arrivals: list[tuple[str, float]] = []
        self.duplicated = 0
        self.stray = 0
        self._due = 0  # deliveries expected so far (refusals deducted)

    def send(self, marker: str, recipients: tuple[int, ...], at: float) -> None:
        self.sent[marker] = (at, recipients)
        self._due += len(recipients)

    def answer(self, marker: str, ok: bool, at: float, code: str = "") -> None:
        sent = self.sent.get(marker)
        if sent is None or marker in self.answers:
            self.stray += 1
            return
        self.answers[marker] = (ok, at)
        if not ok:
            self.refusals[code or "?"] += 1
            self._due -= len(sent[1])

    def deliver(self, where: int, marker: str, at: float) -> None:
        sent = self.sent.get(marker)
        if sent is None or where not in sent[1]:
            self.stray += 1
            return
        seen = self.seen[where]
        if marker in seen:
            self.duplicated += 1
            return
        seen.add(marker)
        self.arrivals.append((marker, at))

    def complete(self) -> bool:
        """Every message answered and every due delivery made (a step may end early)."""
        return len(self.answers) >= len(self.sent) and len(self.arrivals) >= self._due

    def outcome(self) -> Outcome:
        out = Outcome(duplicated=self.duplicated, stray=self.stray, refusals=dict(self.refusals))
        out.sent = len(self.sent)
        for marker, (sent_at, recipients) in self.sent.items():
            out.first_sent_at = min(out.first_sent_at, sent_at)
            out.last_sent_at = max(out.last_sent_at, sent_at)
            answer = self.answers.get(marker)
            if answer is None:
                out.unanswered += 1
            elif not answer[0]:
                out.refused += 1
                continue
            else:
                out.acked += 1
                out.answer_ms.append((answer[1] - sent_at) * 1000)
            out.expected += len(recipients)
            out.lost += sum(1 for r in recipients if marker not in self.seen.get(r, ()))
        for marker, at in self.arrivals:
            sent_at = self.sent[marker][0]
            out.latencies_ms.append((at - sent_at) * 1000)
            answer = self.answers.get(marker)
            if answer is not None and answer[0]:
                out.lag_ms.append(max(0.0, at - answer[1]) * 1000)
            out.last_delivered_at = max(out.last_delivered_at, at)
        out.delivered = len(self.arrivals)
        return out


@dataclass(frozen=True)
class StepRun:
    """One step of one round, summed up (the latency lists are dropped)."""

    target: str  # "chat" | "raw" | "sse"
    rate: float  # offered, per second (messages, or comments)
    round: int
    seconds: float  # planned sending time
    sent: int
    acked: int
    refused: int
    unanswered: int
    expected: int
    delivered: int
    lost: int
    duplicated: int
    stray: int
    p50_ms: float  # chat/raw: send -> each delivery; sse: commit (201) -> on the stream
    p95_ms: float
    p99_ms: float
    answer_p99_ms: float  # send -> its ack / 201
    send_span_s: float  # first to last send
    delivered_per_s: float
    client_cpu: float  # the busiest client process, in cores
    server_cpu: dict[str, float] = field(default_factory=dict)  # process -> cores
    busy: float = math.nan  # the machine's CPU busy fraction (all cores)
    load: float = math.nan  # 1-minute load average at the start
    refusals: dict[str, int] = field(default_factory=dict)
    stored: int | None = None  # rows found in the database afterwards (chat)

    @property
    def clean(self) -> bool:
        return (
            self.sent > 0
            and self.refused == 0
            and self.unanswered == 0
            and self.lost == 0
            and self.duplicated == 0
        )

    @property
    def kept_pace(self) -> bool:
        """The sends went out at the offered rate (not slowed by the client or the server)."""
        return self.send_span_s <= self.seconds * PACE_SLACK + 0.1

    @property
    def client_bound(self) -> bool:
        return self.client_cpu >= CLIENT_BOUND


def summarize(
    outcome: Outcome,
    *,
    target: str,
    rate: float,
    round_: int,
    seconds: float,
    client_cpu: float,
    from_answer: bool = False,
) -> StepRun:
    """A step's figures; ``from_answer`` times deliveries from the send's answer (a
    comment's 201 comes after its commit) instead of from the send."""
    latencies = outcome.lag_ms if from_answer else outcome.latencies_ms
    p50, p95, p99 = quantiles(latencies, (0.5, 0.95, 0.99))
    span = max(0.0, outcome.last_sent_at - outcome.first_sent_at) if outcome.sent else 0.0
    window = outcome.last_delivered_at - outcome.first_sent_at
    return StepRun(
        target=target,
        rate=rate,
        round=round_,
        seconds=seconds,
        sent=outcome.sent,
        acked=outcome.acked,
        refused=outcome.refused,
        unanswered=outcome.unanswered,
        expected=outcome.expected,
        delivered=outcome.delivered,
        lost=outcome.lost,
        duplicated=outcome.duplicated,
        stray=outcome.stray,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        answer_p99_ms=percentile(outcome.answer_ms, 0.99),
        send_span_s=span,
        delivered_per_s=outcome.delivered / window if window > 0 else 0.0,
        client_cpu=client_cpu,
        refusals=outcome.refusals,
    )


def sustained(runs: Sequence[StepRun], p99_limit_ms: float) -> bool:
    """A rate is sustained when every round of it was clean (nothing refused, unanswered,
    lost or duplicated) and kept the offered pace, and the median of its rounds' p99 is
    within the limit."""
    if not runs:
        return False
    if not all(r.clean and r.kept_pace for r in runs):
        return False
    return statistics.median(r.p99_ms for r in runs) <= p99_limit_ms


def max_sustained(by_rate: dict[float, list[StepRun]], p99_limit_ms: float) -> float | None:
    """The highest rate sustained (None: none was)."""
    good = [rate for rate, runs in by_rate.items() if sustained(runs, p99_limit_ms)]
    return max(good) if good else None


def paired_median(ours: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of per-round ratios ours/theirs (each round: both back to back)."""
    ratios = [o / t for o, t in zip(ours, theirs, strict=True) if t > 0 and not math.isnan(o / t)]
    return statistics.median(ratios) if ratios else math.nan


# --- frames ---------------------------------------------------------------------------------


def message_frame(marker: str) -> str:
    # No spaces: the raw app forwards this text as it is, and a delivery is recognised by
    # the same '"clientMessageId":"' as the chat service's frames.
    return '{"type":"MESSAGE","content":"bench realtime","clientMessageId":"' + marker + '"}'


def frame_marker(frame: str) -> str | None:
    start = frame.find(_ID)
    if start < 0:
        return None
    start += len(_ID)
    return frame[start : frame.find('"', start)]


def frame_kind(frame: str) -> str:
    """What a frame naming a clientMessageId is: "ack", "error" or "delivery"."""
    head = frame[:48]
    if '"MESSAGE_ACK"' in head:
        return "ack"
    if '"ERROR"' in head:
        return "error"
    return "delivery"


def error_code(frame: str) -> str:
    start = frame.find(_CODE)
    if start < 0:
        return "ERROR"
    start += len(_CODE)
    return frame[start : frame.find('"', start)]


# --- REST rounds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestRound:
    raw: float  # insert loop rows/s
    rates: dict[str, float]  # route -> req/s
    p99_ms: dict[str, float]
