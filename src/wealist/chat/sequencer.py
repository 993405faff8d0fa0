"""Per-socket ordering of a chat's events: each rev once, in order, no gap.

Events (messages, edits, deletions, reactions, reads, membership) are published after
commit by whichever process stored them, so two processes can publish revs 7 and 8 in
either order, and a process that dies between its commit and its publish never publishes
at all. :class:`ChatSubscriber` sits where the hub queues frames for one socket: an event
whose rev it has passed on already is dropped (a replay and a live frame of the same
event, a retried send announced again); one that arrives early is held until the ones
before it arrive, and if they do not within ``gap_wait_s``, they are read from the event
log (:data:`Fill`). Other frames (typing, acks, heartbeats) pass straight through.

While a replay is being read (:meth:`ChatSubscriber.hold`), every event is held;
:meth:`ChatSubscriber.release` then drops what the replay covered and passes the rest on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from typing_extensions import override

from wealist.chat.frames import frame_rev, message_seq
from wealist.core.realtime.hub import Subscriber

__all__ = ("ChatSubscriber", "Fill")

log = structlog.get_logger("wealist.chat.sequencer")

# (after, upto) -> (the chat's newest rev, event frames with after < rev <= upto, in order)
Fill = Callable[[int, int], Awaitable[tuple[int, list[tuple[int, str]]]]]

HELD_MAX = 1024  # early frames one socket may hold before it reads the gap at once


class ChatSubscriber(Subscriber):
    def __init__(self, queue_size: int, fill: Fill, gap_wait_s: float) -> None:
        super().__init__(queue_size, on_gap=self.catch_up)
        self.delivered = 0  # every rev up to this one was passed on (or is not live)
        self.seq = 0  # the newest message seq passed on (or known to the client)
        self._fill = fill
        self._gap_wait_s = gap_wait_s
        self._held: dict[int, str] = {}
        self._holding = True  # until the first release: the socket's replay is being read
        self._timer: asyncio.TimerHandle | None = None
        self._filling: asyncio.Task[None] | None = None

    @override
    def offer(self, frame: str) -> bool:
        rev = frame_rev(frame)
        if rev is None:
            return super().offer(frame)
        if rev <= self.delivered:
            return True  # had it
        if self._holding or rev != self.delivered + 1:
            self._held[rev] = frame
            if not self._holding:
                self._gap_seen()
            return True
        return self._pass(rev, frame)

    def _queue(self, frame: str) -> bool:
        seq = message_seq(frame)
        if seq is not None:
            self.seq = max(self.seq, seq)
        return super().offer(frame)

    def _pass(self, rev: int, frame: str) -> bool:
        self.delivered = rev
        if not self._queue(frame):
            return False
        while (following := self._held.pop(self.delivered + 1, None)) is not None:
            self.delivered += 1
            if not self._queue(following):
                return False
        return True

    # --- replays ------------------------------------------------------------------------

    def hold(self) -> None:
        """Hold events (a replay is being read)."""
        self._holding = True

    def release(
        self, upto: int, replayed: list[tuple[int, str]], *, queue: bool, seq: int = 0
    ) -> list[str]:
        """The replay covered every rev up to ``upto`` (and message ``seq``): drop what it
        covered, go on live.

        ``queue``: offer the replayed frames through the queue (a resume mid-session);
        otherwise they are returned for the session to send first (on connect).
        """
        self._holding = False
        first: list[str] = []
        for rev, frame in replayed:
            if queue:
                self._queue(frame)
            else:
                first.append(frame)
            self.delivered = max(self.delivered, rev)
        self.delivered = max(self.delivered, upto)
        self.seq = max(self.seq, seq)
        for rev in [r for r in self._held if r <= self.delivered]:
            del self._held[rev]
        while (following := self._held.pop(self.delivered + 1, None)) is not None:
            self.delivered += 1
            self._queue(following)
        if self._held:
            self._gap_seen()
        return first

    # --- gaps ---------------------------------------------------------------------------

    def _gap_seen(self) -> None:
        if self._filling is not None or self._timer is not None:
            return
        if len(self._held) >= HELD_MAX:
            self._start_fill()
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._gap_wait_s, self._start_fill)

    def _start_fill(self) -> None:
        self._timer = None
        if self._filling is None and not self._holding and not self.closed.is_set():
            self._filling = asyncio.ensure_future(self._fill_gap())

    async def _fill_gap(self, upto: int | None = None) -> None:
        try:
            while self._held or upto is not None:
                if self._held:
                    top = min(self._held) - 1
                    if top <= self.delivered:  # the gap closed on its own meanwhile
                        self.release(self.delivered, [], queue=True)
                        if not self._held:
                            break
                        top = min(self._held) - 1
                    target = top if upto is None else max(top, upto)
                else:
                    assert upto is not None
                    target = upto
                upto = None
                if target <= self.delivered:
                    break
                self.hold()
                try:
                    _, frames = await self._fill(self.delivered, target)
                except BaseException:
                    self._holding = False  # nothing passed on: what is held waits for a retry
                    raise
                self.release(target, frames, queue=True)
        except Exception:  # a database outage: the next gap or heartbeat check retries
            log.warning("chat.gap_fill_failed", exc_info=True)
        finally:
            self._filling = None

    async def catch_up(self, newest: int | None = None) -> None:
        """Pass on everything up to the chat's newest rev (a quiet gap, a broker outage).

        The fill is claimed before anything is awaited: a heartbeat's check and a broker
        reconnect can ask at once, and two fills of the same gap would pass it twice.
        """
        if self._filling is not None or self._holding or self.closed.is_set():
            return
        self._filling = asyncio.ensure_future(self._catch_up(newest))
        with contextlib.suppress(Exception):
            await asyncio.shield(self._filling)

    async def _catch_up(self, newest: int | None) -> None:
        try:
            if newest is None:
                newest, _ = await self._fill(self.delivered, self.delivered)
            if newest > self.delivered:
                await self._fill_gap(newest)
        except Exception:  # a database outage: the next heartbeat checks again
            log.warning("chat.catch_up_failed", exc_info=True)
        finally:
            self._filling = None

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._filling is not None:
            self._filling.cancel()
