"""Sequenced streams: every event of a scope (a project, a chat) carries a gapless ``seq``.

Producers write the event with its ``seq`` in the transaction that causes it and publish
the same frame after commit. Because publishing happens after commit, two events can reach
a process out of order, and pub/sub can drop one during a Redis outage. A socket's
:class:`Sequencer` therefore admits live frames strictly in order: a frame it already sent
is dropped, the next one passes, and a frame beyond a gap makes it read the missing ones
from the database first (committed, since a later one exists). A socket never shows a
duplicate or skips an event; when the log no longer holds what is missing, it sends
``reset`` and the client refetches.

A sequenced frame is JSON that *starts with* ``{"seq":<n>,`` (:func:`sequenced` builds
one), so the hot path reads the number without decoding the frame. A stream whose frames
already use ``seq`` for something else (the chat's messages) numbers them under another
``key`` (``{"rev":<n>,``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

__all__ = ("CATCH_UP", "Fetch", "Sequencer", "frame_seq", "reset_frame", "sequenced")

_PREFIX = '{"seq":'
# (after, upto) -> frames with after < seq <= upto in order (upto None: every later one)
Fetch = Callable[[int, int | None], Awaitable[list[str]]]
_encode = msgspec.json.Encoder().encode
# Queued (never sent) when pub/sub may have dropped events: read the log for anything newer.
CATCH_UP = "\x00catch-up"


def sequenced(seq: int, body: bytes | str, key: str = "seq") -> str:
    """``body`` (an encoded JSON object) with ``key`` (``"seq"``) as its first member."""
    inner = (body if isinstance(body, str) else body.decode())[1:]
    prefix = _PREFIX if key == "seq" else f'{{"{key}":'
    return f"{prefix}{seq}{',' if inner != '}' else ''}{inner}"


def frame_seq(frame: str, key: str = "seq") -> int | None:
    """The ``seq`` (or ``key``) of a sequenced frame; None for other frames (pong,
    heartbeat, errors)."""
    prefix = _PREFIX if key == "seq" else f'{{"{key}":'
    if not frame.startswith(prefix):
        return None
    end = frame.find(",", len(prefix))
    digits = frame[len(prefix) : end if end > 0 else -1]
    return int(digits) if digits.isdigit() else None


def reset_frame(seq: int, reason: str, **extra: str) -> str:
    """Tells a client its resume point is gone: refetch state, then follow from ``seq``."""
    return _encode({"type": "reset", "reason": reason, "currentSeq": seq, **extra}).decode()


class Sequencer:
    """Admits one socket's frames in ``seq`` order, reading gaps from the event log."""

    def __init__(self, last: int, fetch: Fetch, reset: Callable[[int], str]) -> None:
        self.last = last
        self._fetch = fetch
        self._reset = reset
        self.filled = 0  # frames read from the log to close gaps (a metric for tests)

    async def admit(self, frame: str) -> list[str]:
        """What to send for ``frame``: nothing, it alone, or the gap before it and it."""
        if frame == CATCH_UP:
            return await self.catch_up()
        seq = frame_seq(frame)
        if seq is None:
            return [frame]
        if seq <= self.last:
            return []
        if seq == self.last + 1:
            self.last = seq
            return [frame]
        return await self.catch_up(seq)

    async def catch_up(self, upto: int | None = None) -> list[str]:
        """Frames after the last one sent, up to ``upto`` (None: all there are)."""
        missing = await self._fetch(self.last, upto)
        expected = self.last + 1
        for frame in missing:
            if frame_seq(frame) != expected:  # the log no longer holds the gap
                newest = frame_seq(missing[-1]) or 0
                self.last = max(upto or 0, newest, self.last)
                return [self._reset(self.last)]
            expected += 1
        if upto is not None and expected <= upto:
            self.last = upto
            return [self._reset(upto)]
        self.last = expected - 1
        self.filled += len(missing)
        return missing
