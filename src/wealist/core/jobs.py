"""Background tasks of a service: periodic jobs, and stopping tasks without hanging.

Every service runs a few jobs in each replica (cleanups, sweeps, reminders); each job is
written to be safe when replicas run it at once. :func:`periodic` runs them for the
duration of a lifespan: a failing round (an outage) is logged and waits for the next.
:func:`cancel_and_wait` stops tasks but waits for them only so long: a task that swallows
its cancellation (redis-py can, inside a command) must not hang a shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import structlog

__all__ = ("Job", "cancel_and_wait", "drain", "periodic")

log = structlog.get_logger("wealist.jobs")

Job = tuple[float, Callable[[], Awaitable[object]]]  # (every this many seconds, one round)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], wait_s: float = 5.0) -> None:
    """Cancel ``tasks`` and wait up to ``wait_s`` for them to end (results discarded)."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=wait_s)
    if stuck:
        log.warning("tasks.stuck_on_cancel", tasks=sorted(task.get_name() for task in stuck))
    for task in pending:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at exit


async def drain(batch: Callable[[], Awaitable[int]]) -> int:
    """Run ``batch`` until it finds nothing more to do (a purge in batches); the total."""
    total = 0
    while (done := await batch()) > 0:
        total += done
    return total


async def _every(
    service: str, name: str, every_s: float, job: Callable[[], Awaitable[object]]
) -> None:
    while True:
        await asyncio.sleep(every_s)  # the first round waits too: the pools are filling
        try:
            await job()
        except Exception as exc:  # noqa: BLE001  # an outage must not end the job
            log.warning(
                "job.failed", service=service, job=name, error=type(exc).__name__, detail=str(exc)
            )


@contextlib.asynccontextmanager
async def periodic(service: str, jobs: Mapping[str, Job]) -> AsyncIterator[None]:
    """Run each ``name -> (every_s, job)`` every ``every_s`` while the block runs."""
    tasks = [
        asyncio.create_task(_every(service, name, every_s, job), name=f"{service}-{name}")
        for name, (every_s, job) in jobs.items()
        if every_s > 0
    ]
    try:
        yield
    finally:
        await cancel_and_wait(tasks)
