"""Background work of the chat service: the presence sweep (expired leases, idle users)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from wealist.chat.actions.common import settings_of
from wealist.chat.actions.presence import do_sweep
from wealist.core.context import ServiceContext

__all__ = ("chat_runtime",)


async def sweep_forever(ctx: ServiceContext, interval_s: float) -> None:
    """Every instance sweeps: a change is announced once (the Lua call decides who)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await do_sweep(ctx)
        except Exception as exc:  # noqa: BLE001  # Redis away: the next round retries
            ctx.log.warning("presence.sweep_failed", error=type(exc).__name__)


async def chat_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    task = asyncio.create_task(
        sweep_forever(ctx, settings_of(ctx).presence_sweep_s), name="chat-presence-sweep"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
