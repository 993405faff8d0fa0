"""The video service's lifespan: its LiveKit client, the sweep that reconciles calls with
LiveKit, and the pruning of applied webhook ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.core.context import ServiceContext
from wealist.core.jobs import periodic
from wealist.video.actions.livekit_events import do_prune_webhooks, do_reconcile
from wealist.video.livekit import STATE_KEY, LiveKit, video_settings
from wealist.video.metrics import metrics_of

__all__ = ("video_runtime",)

PRUNE_EVERY = 60  # sweeps


async def reconcile(ctx: ServiceContext, rounds: list[int]) -> None:
    """One sweep; every ``PRUNE_EVERY`` sweeps, the old webhook ids go too."""
    rounds[0] += 1
    changed = await do_reconcile(ctx)
    if changed:
        ctx.log.info("calls.reconciled", changed=changed)
    if rounds[0] % PRUNE_EVERY == 0:
        await do_prune_webhooks(ctx)


async def video_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = video_settings(ctx)
    metrics_of(ctx)  # registered at start: /metrics lists them before the first call
    if not settings.livekit_configured:
        ctx.log.warning("livekit.not_configured", hint="set WEALIST_VIDEO_LIVEKIT_*")
        yield
        return
    livekit = LiveKit(settings)
    ctx.state[STATE_KEY] = livekit
    rounds = [0]
    try:
        sweep = (settings.reconcile_interval_s, lambda: reconcile(ctx, rounds))
        async with periodic("video", {"reconcile": sweep}):
            yield
    finally:
        ctx.state.pop(STATE_KEY, None)
        await livekit.close()
