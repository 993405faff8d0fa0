"""Background work of the chat service: the presence sweep (expired leases, idle users).
Every instance sweeps: a change is announced once (the Lua call decides who)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from wealist.chat.actions.common import settings_of
from wealist.chat.actions.presence import do_sweep
from wealist.core.context import ServiceContext
from wealist.core.jobs import periodic

__all__ = ("chat_runtime",)


async def chat_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    sweep = (settings_of(ctx).presence_sweep_s, lambda: do_sweep(ctx))
    async with periodic("chat", {"presence-sweep": sweep}):
        yield
