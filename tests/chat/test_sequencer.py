"""The chat socket's sequencer on its own: each rev passed on once, in order, whoever asks
for a catch-up and however the reads interleave."""

from __future__ import annotations

import asyncio

from wealist.chat.frames import frame_rev, with_rev
from wealist.chat.sequencer import ChatSubscriber

LOG = {rev: with_rev(rev, '{"type":"MESSAGE_UPDATED"}') for rev in range(1, 11)}


class SlowLog:
    """The event log behind a slow database: every read waits a little."""

    def __init__(self, newest: int) -> None:
        self.newest = newest
        self.reads = 0
        self.fail = False

    async def fill(self, after: int, upto: int) -> tuple[int, list[tuple[int, str]]]:
        self.reads += 1
        await asyncio.sleep(0.001 if upto <= after else 0.03)  # the newest rev is cached
        if self.fail:
            raise OSError("the database went away")
        if upto <= after:
            return self.newest, []
        return upto, [(rev, LOG[rev]) for rev in range(after + 1, upto + 1)]


def started(log: SlowLog) -> ChatSubscriber:
    sub = ChatSubscriber(100, log.fill, gap_wait_s=0.05)
    sub.release(0, [], queue=False)  # connected with nothing to replay
    return sub


def passed(sub: ChatSubscriber) -> list[int]:
    found = []
    while not sub.queue.empty():
        rev = frame_rev(sub.queue.get_nowait())
        assert rev is not None
        found.append(rev)
    return found


async def test_catch_ups_asked_at_once_pass_each_event_once() -> None:
    log = SlowLog(newest=6)
    sub = started(log)
    # a broker reconnect (reads the newest rev first) and, while it reads, a heartbeat's
    # tail check (knows the newest already)
    await asyncio.gather(sub.catch_up(), sub.catch_up(6), sub.catch_up())
    assert passed(sub) == [1, 2, 3, 4, 5, 6]
    assert sub.delivered == 6


async def test_live_frames_during_a_catch_up_are_passed_once_after_it() -> None:
    log = SlowLog(newest=4)
    sub = started(log)
    catching_up = asyncio.ensure_future(sub.catch_up(4))
    await asyncio.sleep(0)  # the read is under way
    for rev in (3, 4, 5, 6):  # live ones, some the read also returns
        sub.offer(LOG[rev])
    await catching_up
    await asyncio.sleep(0.1)
    assert passed(sub) == [1, 2, 3, 4, 5, 6]


async def test_a_failed_read_passes_nothing_and_a_later_one_fills_the_gap() -> None:
    log = SlowLog(newest=3)
    sub = started(log)
    log.fail = True
    sub.offer(LOG[3])  # early: 1 and 2 are missing
    await asyncio.sleep(0.15)  # the gap's wait, then a read that fails
    assert passed(sub) == [] and sub.delivered == 0
    log.fail = False
    await sub.catch_up(3)
    assert passed(sub) == [1, 2, 3]
    sub.stop()
