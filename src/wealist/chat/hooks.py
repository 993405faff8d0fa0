"""Background work of the chat service: the message writer (group commit of the sends,
``actions.sending``), the presence sweep (expired leases, idle users; every instance
sweeps, a change is announced once: the Lua call decides who) and the pruning of the
event log past its retention."""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.chat.actions.common import settings_of
from wealist.chat.actions.events import do_prune_events
from wealist.chat.actions.presence import do_sweep
from wealist.chat.actions.sending import writing
from wealist.core.context import ServiceContext
from wealist.core.jobs import periodic

__all__ = ("chat_runtime",)


async def chat_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    settings = settings_of(ctx)
    sweep = (settings.presence_sweep_s, lambda: do_sweep(ctx))
    prune = (settings.event_retention_s / 24, lambda: do_prune_events(ctx))
    # The writer stops last: what is queued is written and answered before it closes.
    async with writing(ctx), periodic("chat", {"presence-sweep": sweep, "prune-events": prune}):
        yield
