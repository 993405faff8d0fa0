"""Polling helpers for asynchronous assertions (no fixed sleeps in tests)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

_UNSET: Any = object()


async def eventually(
    probe: Callable[[], Any | Awaitable[Any]],
    *,
    equals: Any = _UNSET,
    timeout: float = 10.0,
    every: float = 0.01,
) -> Any:
    """Poll ``probe`` until it returns ``equals`` (or something truthy); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if inspect.isawaitable(last):
            last = await last
        if (last == equals) if equals is not _UNSET else bool(last):
            return last
        if time.monotonic() > deadline:
            wanted = "something truthy" if equals is _UNSET else repr(equals)
            raise AssertionError(f"waited {timeout}s for {wanted}, last got {last!r}")
        await asyncio.sleep(every)
