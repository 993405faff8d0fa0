"""Periodic jobs survive failing rounds; stopping tasks never hangs on one that swallows
its cancellation."""

from __future__ import annotations

import asyncio

from wealist.core.jobs import cancel_and_wait, drain, periodic


async def test_a_job_runs_every_interval_and_a_failing_round_does_not_end_it() -> None:
    rounds: list[int] = []

    async def job() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise ConnectionError("the database is away")

    async with periodic("probe", {"flaky": (0.01, job), "off": (0, job)}):
        while len(rounds) < 5:
            await asyncio.sleep(0.01)
    count = len(rounds)
    await asyncio.sleep(0.05)
    assert len(rounds) == count  # stopped with the block


async def test_a_task_that_swallows_its_cancellation_does_not_hang_the_stop() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                continue  # what redis-py can do inside a command

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    await cancel_and_wait([task], wait_s=0.1)
    assert not task.done()
    release.set()
    task.cancel()
    await asyncio.wait([task], timeout=2)


async def test_drain_repeats_a_batch_until_nothing_is_left() -> None:
    left = [3, 3, 1]

    async def batch() -> int:
        return left.pop(0) if left else 0

    assert await drain(batch) == 7
