"""Health routes (contract 2.6): liveness, and readiness that checks the database and Redis.

``/health/ready`` and ``/health`` answer 200 ``{status:"ready", checks:{database, redis}}``
or 503 ``{status:"not_ready", checks}``; each check reads ``ok``, ``disconnected``,
``error`` or ``not_configured``. A process draining for a stop (core.shutdown) is not
ready either, and says so with ``draining: true``. ``/health/live`` only says the process
answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from wealist.core.fastlane import Answer, FastCall, FastRoute

if TYPE_CHECKING:
    from wealist.core.context import ServiceContext

__all__ = ("Readiness", "health_routes", "live_routes")


class Checks(msgspec.Struct):
    database: str
    redis: str
    databases: dict[str, str] = msgspec.field(default_factory=dict)


class Readiness(msgspec.Struct, omit_defaults=True):
    status: str
    checks: Checks
    service: str
    draining: bool = False  # present (true) only while the process drains for a stop


class Liveness(msgspec.Struct):
    status: str = "alive"


def _worst(states: Sequence[str]) -> str:
    for bad in ("error", "disconnected"):
        if bad in states:
            return bad
    return "ok" if states else "not_configured"


async def readiness(contexts: Sequence[ServiceContext]) -> Readiness:
    dbs = [ctx.db for ctx in contexts if ctx.db is not None]
    redis_checks = {id(ctx.redis): ctx for ctx in contexts}
    db_states, redis_states = await asyncio.gather(
        asyncio.gather(*(db.ping() for db in dbs)),
        asyncio.gather(*(ctx.check_redis() for ctx in redis_checks.values())),
    )
    checks = Checks(
        database=_worst(db_states),
        redis=_worst(redis_states),
        databases={db.name: state for db, state in zip(dbs, db_states, strict=True)},
    )
    ok = checks.database in ("ok", "not_configured") and checks.redis in ("ok", "not_configured")
    draining = contexts[0].runtime.shutdown.draining
    name = contexts[0].name if len(contexts) == 1 else "all"
    status = "ready" if ok and not draining else "not_ready"
    return Readiness(status, checks, f"{name}-service", draining=draining)


def health_routes(
    contexts: Sequence[ServiceContext], prefixes: Sequence[str]
) -> list[HTTPRouteHandler]:
    """The three health routes under every prefix the services ask for."""
    ready_paths = [f"{p}/health" for p in prefixes] + [f"{p}/health/ready" for p in prefixes]
    live_paths = [f"{p}/health/live" for p in prefixes]

    @get(ready_paths, include_in_schema=False, cache=False)
    async def ready() -> Response[Readiness]:
        result = await readiness(contexts)
        return Response(result, status_code=200 if result.status == "ready" else 503)

    @get(live_paths, include_in_schema=False, sync_to_thread=False)
    def live() -> Liveness:
        return Liveness()

    handlers: list[Any] = [ready, live]
    return handlers


_ALIVE = Answer(msgspec.json.encode(Liveness()))


async def _alive(_: FastCall) -> Answer:
    return _ALIVE


def live_routes(prefixes: Sequence[str]) -> list[FastRoute]:
    """``/health/live`` under every prefix in the fast lane: probes hit it every second."""
    return [FastRoute("GET", f"{p}/health/live", _alive) for p in prefixes]
