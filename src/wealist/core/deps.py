"""Handler parameter types for the dependencies every service router provides.

    async def get_task(ctx: Ctx, caller: Caller, taskId: str) -> Task: ...

``Ctx`` is the service's :class:`~wealist.core.context.ServiceContext`; ``Caller`` is the
verified :class:`~wealist.core.security.Principal` (asking for it makes the route require
a valid access token); ``Internal`` makes the route require the internal API key (for
``/api/internal/*``, which the gateway also blocks).
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec
from litestar.di import NamedDependency

from wealist.core.context import ServiceContext
from wealist.core.security import Principal

__all__ = ("Caller", "Ctx", "Internal", "InternalCall")

Ctx: TypeAlias = NamedDependency[ServiceContext]
Caller: TypeAlias = NamedDependency[Principal]


class InternalCall(msgspec.Struct, frozen=True):
    """A request that presented the internal API key."""

    service: str | None = None  # X-Calling-Service, for logs only


Internal: TypeAlias = NamedDependency[InternalCall]
