"""The real-time benchmark's book-keeping: percentiles, what counts as refused, lost and
duplicated, and which rates count as sustained (no servers)."""

from __future__ import annotations

import math

import pytest
from bench.realtime_book import (
    Outcome,
    StepRun,
    Tally,
    error_code,
    frame_kind,
    frame_marker,
    max_sustained,
    merge,
    message_frame,
    paired_median,
    percentile,
    quantiles,
    summarize,
    sustained,
)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert quantiles(values, (0.5, 0.95, 0.99, 1.0)) == [50.0, 95.0, 99.0, 100.0]
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0  # unsorted input
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_every_recipient_counts_its_own_deliveries() -> None:
    tally = Tally()
    room = (0, 1, 2)
    tally.send("a", room, at=10.0)
    tally.send("b", room, at=10.5)
    tally.answer("a", True, at=10.1)
    tally.answer("b", True, at=10.6)
    for where in room:
        tally.deliver(where, "a", at=10.2)
    tally.deliver(0, "b", at=10.7)
    tally.deliver(0, "b", at=10.8)  # again on socket 0: a duplicate, not a second delivery
    assert not tally.complete()  # "b" is still due on sockets 1 and 2
    out = tally.outcome()
    assert (out.sent, out.acked, out.refused, out.unanswered) == (2, 2, 0, 0)
    assert (out.expected, out.delivered, out.lost, out.duplicated) == (6, 4, 2, 1)
    assert sorted(out.latencies_ms) == pytest.approx([200, 200, 200, 200])
    assert sorted(out.answer_ms) == pytest.approx([100, 100])


def test_a_refused_message_is_owed_to_nobody() -> None:
    tally = Tally()
    tally.send("a", (0, 1), at=1.0)
    tally.send("b", (0, 1), at=1.0)
    tally.answer("a", False, at=1.1, code="SERVICE_UNAVAILABLE")
    tally.answer("b", True, at=1.1)
    tally.deliver(0, "b", at=1.2)
    tally.deliver(1, "b", at=1.2)
    assert tally.complete()
    out = tally.outcome()
    assert (out.refused, out.expected, out.lost) == (1, 2, 0)
    assert out.refusals == {"SERVICE_UNAVAILABLE": 1}


def test_an_unanswered_message_is_still_owed() -> None:
    tally = Tally()
    tally.send("a", (0, 1), at=1.0)
    tally.deliver(0, "a", at=1.5)
    out = tally.outcome()
    assert (out.unanswered, out.expected, out.delivered, out.lost) == (1, 2, 1, 1)


def test_strays_are_neither_deliveries_nor_duplicates() -> None:
    tally = Tally()
    tally.send("a", (0, 1), at=1.0)
    tally.deliver(0, "not-sent", at=1.1)  # another step's message
    tally.deliver(5, "a", at=1.1)  # a socket that is not a recipient
    tally.answer("a", True, at=1.1)
    tally.answer("a", True, at=1.2)  # a second answer
    out = tally.outcome()
    assert (out.stray, out.delivered, out.duplicated, out.acked) == (3, 0, 0, 1)


def test_notification_lag_is_timed_from_the_answer_and_never_negative() -> None:
    tally = Tally()
    tally.send("c", (1, 2), at=1.0)
    tally.deliver(1, "c", at=1.05)  # on the stream before the 201 reached the client
    tally.answer("c", True, at=1.1)
    tally.deliver(2, "c", at=1.3)
    out = tally.outcome()
    assert sorted(out.lag_ms) == pytest.approx([0.0, 200.0])
    assert sorted(out.latencies_ms) == pytest.approx([50.0, 300.0])


def test_the_client_processes_shares_merge() -> None:
    one = Outcome(sent=2, acked=2, expected=4, delivered=3, lost=1, latencies_ms=[1.0])
    one.first_sent_at, one.last_sent_at, one.refusals = 5.0, 6.0, {"X": 1}
    two = Outcome(sent=1, refused=1, latencies_ms=[2.0])
    two.first_sent_at, two.last_sent_at, two.refusals = 4.0, 7.0, {"X": 2, "Y": 1}
    both = merge([one, two])
    assert (both.sent, both.acked, both.refused, both.lost) == (3, 2, 1, 1)
    assert both.latencies_ms == [1.0, 2.0]
    assert (both.first_sent_at, both.last_sent_at) == (4.0, 7.0)
    assert both.refusals == {"X": 3, "Y": 1}


def step(rate: float, p99: float, **changes: object) -> StepRun:
    out = Outcome(sent=100, acked=100, expected=1000, delivered=1000)
    out.first_sent_at, out.last_sent_at = 0.0, 5.0
    run = summarize(out, target="chat", rate=rate, round_=0, seconds=5.0, client_cpu=0.3)
    fields = {"p99_ms": p99, **changes}
    return StepRun(**{**run.__dict__, **fields})  # type: ignore[arg-type]


def test_a_rate_is_sustained_when_every_round_is_clean_and_the_median_p99_holds() -> None:
    assert sustained([step(100, 20), step(100, 150), step(100, 30)], 100)  # median 30 ms
    assert not sustained([step(100, 20), step(100, 150), step(100, 120)], 100)
    assert not sustained([step(100, 20), step(100, 20, refused=1)], 100)
    assert not sustained([step(100, 20, lost=1)], 100)
    assert not sustained([step(100, 20, duplicated=1)], 100)
    assert not sustained([step(100, 20, unanswered=1)], 100)
    assert not sustained([step(100, 20, send_span_s=6.0)], 100)  # the sends fell behind
    assert not sustained([], 100)


def test_the_maximum_sustained_rate_is_the_highest_that_held() -> None:
    runs = {
        100.0: [step(100, 10)],
        300.0: [step(300, 40)],
        1000.0: [step(1000, 400)],
    }
    assert max_sustained(runs, 100) == 300.0
    assert max_sustained(runs, 5) is None
    assert max_sustained({}, 100) is None


def test_a_busy_client_is_flagged() -> None:
    assert not step(100, 10).client_bound
    assert step(100, 10, client_cpu=0.9).client_bound


def test_ratios_pair_each_round() -> None:
    # Round 2 was slower for both: the paired ratios are 2, 2, 3, the median 2.
    assert paired_median([10, 40, 30], [5, 20, 10]) == 2.0
    assert math.isnan(paired_median([1.0], [0.0]))
    with pytest.raises(ValueError):
        paired_median([1.0, 2.0], [1.0])


def test_frames_are_read_without_decoding() -> None:
    sent = message_frame("rt1.0.7")
    assert frame_marker(sent) == "rt1.0.7"
    assert frame_kind(sent) == "delivery"  # the raw app forwards the sent frame
    received = (
        '{"rev":12,"type":"MESSAGE_RECEIVED","seq":3,"message":{"messageId":"m",'
        '"content":"bench realtime","clientMessageId":"rt1.0.7"}}'
    )
    assert (frame_marker(received), frame_kind(received)) == ("rt1.0.7", "delivery")
    ack = '{"type":"MESSAGE_ACK","clientMessageId":"rt1.0.7","messageId":"m","seq":3}'
    assert frame_kind(ack) == "ack"
    error = '{"type":"ERROR","code":"SERVICE_UNAVAILABLE","message":"x","clientMessageId":"a"}'
    assert (frame_kind(error), error_code(error), frame_marker(error)) == (
        "error",
        "SERVICE_UNAVAILABLE",
        "a",
    )
    assert frame_marker('{"type":"pong"}') is None
