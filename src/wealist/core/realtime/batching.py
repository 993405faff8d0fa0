"""Redis commands of many callers in one round trip, over a bounded number of connections.

Every socket of a process renews its presence, counts itself, reads statuses; every
commit publishes its frames. Sent one by one, a thousand sockets take a thousand pooled
connections at once (redis-py's pool then raises ``MaxConnectionsError``) and as many
round trips. A :class:`RedisBatch` queues each caller's command instead and sends what
was queued during one turn of the event loop as one pipeline; while ``in_flight``
pipelines are out, new commands wait and go together in the next one (the busier the
process, the larger the batch). Each caller gets its own command's answer or error: one
failing command fails only its caller, a lost link fails the callers of that pipeline.
A caller with many commands at once (a commit's publishes) queues them as one
(:meth:`RedisBatch.call_many`): one future, not one task per command.

Scripts are sent as ``EVALSHA``; a Redis that lost its scripts (a restart, a flush) has
them loaded and the refused commands sent again, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

__all__ = ("Command", "RedisBatch")

# Queues one command on the pipeline it is given.
Command = Callable[[Pipeline], object]


class _Queued:
    """One caller's commands (one, or several from :meth:`RedisBatch.call_many`)."""

    __slots__ = ("commands", "future", "many", "script")

    def __init__(
        self,
        commands: Sequence[Command],
        future: asyncio.Future[Any],
        script: AsyncScript | None,
        *,
        many: bool = False,
    ) -> None:
        self.commands = commands
        self.future = future
        self.script = script
        self.many = many


class RedisBatch:
    """Coalesces commands of concurrent callers into pipelines on one Redis client."""

    def __init__(self, redis: Redis, *, in_flight: int = 2) -> None:
        if in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        self.redis = redis
        self.in_flight = in_flight  # pipelines (pooled connections) out at once, at most
        self._slots = asyncio.Semaphore(in_flight)
        self._queued: list[_Queued] = []
        self._flusher: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.round_trips = 0  # pipelines sent (script reloads included); tests read deltas
        self.commands = 0  # commands sent in them

    async def call(self, command: Command) -> Any:
        """Queue ``command``; its answer once the pipeline that carries it returns."""
        return await self._queue(_Queued((command,), self._future(), None))

    async def call_many(self, commands: Sequence[Command]) -> list[Any]:
        """Queue ``commands`` in this order, in one pipeline, for the price of one caller
        (one future, no task per command); each one's answer, an error as its value. A
        lost link raises for all of them."""
        if not commands:
            return []
        answers: list[Any] = await self._queue(_Queued(commands, self._future(), None, many=True))
        return answers

    async def script(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a registered script (``EVALSHA``, loaded again if Redis lost it)."""
        sha, n = script.sha, len(keys)

        def command(pipe: Pipeline) -> object:
            return pipe.evalsha(sha, n, *keys, *args)

        return await self._queue(_Queued((command,), self._future(), script))

    @staticmethod
    def _future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _queue(self, queued: _Queued) -> Any:
        future = queued.future
        self._queued.append(queued)
        if self._flusher is None:
            # Started on the next loop turn: what else is queued in this one goes along.
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._queued:
                await self._slots.acquire()
                batch, self._queued = self._queued, []
                task = asyncio.ensure_future(self._send(batch))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        finally:
            self._flusher = None

    async def _send(self, batch: list[_Queued]) -> None:
        try:
            live = [q for q in batch if not q.future.done()]  # a caller may have given up
            if not live:
                return
            try:
                answers = await self._pipeline(live)
                # Only scripts can meet NOSCRIPT, and a script is always a caller alone.
                lost = [(q, a) for q, a in zip(live, answers, strict=True) if _no_script(a)]
                if lost:
                    await self._reload({q.script for q, _ in lost if q.script is not None})
                    again = await self._pipeline([q for q, _ in lost])
                    fixed = dict(zip((id(q) for q, _ in lost), again, strict=True))
                    answers = [fixed.get(id(q), a) for q, a in zip(live, answers, strict=True)]
            except Exception as exc:  # noqa: BLE001  # the link failed: every caller of this pipeline
                for queued in live:
                    if not queued.future.done():
                        queued.future.set_exception(exc)
                return
            for queued, answer in zip(live, answers, strict=True):
                if queued.future.done():
                    continue
                if isinstance(answer, Exception) and not queued.many:
                    queued.future.set_exception(answer)
                else:
                    queued.future.set_result(answer)
        finally:
            self._slots.release()

    async def _pipeline(self, batch: list[_Queued]) -> list[Any]:
        """Each caller's answer: its command's, or the list of its commands' answers."""
        pipe = self.redis.pipeline(transaction=False)
        sent = 0
        for queued in batch:
            for command in queued.commands:
                command(pipe)
            sent += len(queued.commands)
        self.round_trips += 1
        self.commands += sent
        flat = list(await pipe.execute(raise_on_error=False))
        answers: list[Any] = []
        at = 0
        for queued in batch:
            n = len(queued.commands)
            answers.append(flat[at : at + n] if queued.many else flat[at])
            at += n
        return answers

    async def _reload(self, scripts: set[AsyncScript]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for found in scripts:
            _ = pipe.script_load(found.script)  # queued; execute() sends it
        self.round_trips += 1
        await pipe.execute()

    async def close(self) -> None:
        """Wait for the pipelines in flight (their callers get their answers)."""
        pending = [t for t in (self._flusher, *self._sending) if t is not None]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _no_script(answer: object) -> bool:
    return isinstance(answer, NoScriptError)
