"""The video service's lifespan: its LiveKit client, the sweep that reconciles calls with
LiveKit, and the pruning of applied webhook ids."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.video.actions.livekit_events import do_prune_webhooks, do_reconcile
from wealist.video.livekit import STATE_KEY, LiveKit, video_settings
from wealist.video.metrics import metrics_of

__all__ = ("video_runtime",)

PRUNE_EVERY = 60  # sweeps


async def sweep_forever(ctx: ServiceContext, interval_s: float) -> None:
    """Reconcile every ``interval_s``; an outage (database, LiveKit) waits for the next."""
    rounds = 0
    while True:
        await asyncio.sleep(interval_s)
        rounds += 1
        try:
            changed = await do_reconcile(ctx)
            if changed:
                ctx.log.info("calls.reconciled", changed=changed)
            if rounds % PRUNE_EVERY == 0:
                await do_prune_webhooks(ctx)
        except Exception as exc:  # noqa: BLE001  # an outage must not end the job
            ctx.log.warning("calls.reconcile_failed", error=type(exc).__name__, detail=str(exc))


async def video_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = video_settings(ctx)
    metrics_of(ctx)  # registered at start: /metrics lists them before the first call
    if not settings.livekit_configured:
        ctx.log.warning("livekit.not_configured", hint="set WEALIST_VIDEO_LIVEKIT_*")
        yield
        return
    livekit = LiveKit(settings)
    ctx.state[STATE_KEY] = livekit
    task = None
    if settings.reconcile_interval_s > 0:
        task = asyncio.create_task(
            sweep_forever(ctx, settings.reconcile_interval_s), name="video-reconcile"
        )
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ctx.state.pop(STATE_KEY, None)
        await livekit.close()
