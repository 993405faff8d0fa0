"""Sequenced frames and the per-socket sequencer: in order, no duplicate, gaps filled from
the log, ``reset`` when the log no longer holds a gap."""

from __future__ import annotations

import json

from wealist.core.realtime.sequence import Sequencer, frame_seq, reset_frame, sequenced


def frame(seq: int) -> str:
    return sequenced(seq, json.dumps({"type": "E", "n": seq}).encode())


class Log:
    def __init__(self, first: int, last: int) -> None:
        self.frames = {s: frame(s) for s in range(first, last + 1)}
        self.reads: list[tuple[int, int | None]] = []

    async def fetch(self, after: int, upto: int | None) -> list[str]:
        self.reads.append((after, upto))
        top = max(self.frames) if upto is None else upto
        return [self.frames[s] for s in range(after + 1, top + 1) if s in self.frames]


def sequencer(log: Log, last: int) -> Sequencer:
    return Sequencer(last, log.fetch, lambda seq: reset_frame(seq, "gap"))


def test_sequenced_frames_carry_their_number_first() -> None:
    made = frame(42)
    assert made.startswith('{"seq":42,')
    assert json.loads(made) == {"seq": 42, "type": "E", "n": 42}
    assert frame_seq(made) == 42
    assert json.loads(sequenced(7, b"{}")) == {"seq": 7}
    for other in ('{"type":"pong"}', '{"seq":"x","a":1}', "not json", '{"seq":'):
        assert frame_seq(other) is None


async def test_in_order_frames_pass_and_duplicates_are_dropped() -> None:
    log = Log(1, 5)
    seq = sequencer(log, 2)
    assert await seq.admit(frame(1)) == []
    assert await seq.admit(frame(2)) == []
    assert await seq.admit(frame(3)) == [frame(3)]
    assert await seq.admit(frame(3)) == []
    assert await seq.admit('{"type":"heartbeat"}') == ['{"type":"heartbeat"}']
    assert log.reads == []


async def test_a_gap_is_filled_from_the_log_before_the_frame_beyond_it() -> None:
    log = Log(1, 9)
    seq = sequencer(log, 3)
    assert await seq.admit(frame(7)) == [frame(4), frame(5), frame(6), frame(7)]
    assert log.reads == [(3, 7)]
    assert await seq.admit(frame(5)) == []  # arrived late: already sent
    assert await seq.admit(frame(8)) == [frame(8)]
    assert seq.last == 8


async def test_a_gap_the_log_no_longer_holds_becomes_a_reset() -> None:
    log = Log(6, 9)  # 4 and 5 were pruned
    seq = sequencer(log, 3)
    sent = await seq.admit(frame(7))
    assert [json.loads(f)["type"] for f in sent] == ["reset"]
    assert json.loads(sent[0])["currentSeq"] == 7
    assert await seq.admit(frame(8)) == [frame(8)]


async def test_catch_up_reads_everything_after_the_last_frame_sent() -> None:
    log = Log(1, 6)
    seq = sequencer(log, 4)
    assert await seq.catch_up() == [frame(5), frame(6)]
    assert await seq.catch_up() == []
    assert seq.last == 6


async def test_the_catch_up_marker_reads_the_log_instead_of_being_sent() -> None:
    from wealist.core.realtime.sequence import CATCH_UP

    log = Log(1, 3)
    seq = sequencer(log, 1)
    assert await seq.admit(CATCH_UP) == [frame(2), frame(3)]
    assert await seq.admit(CATCH_UP) == []
