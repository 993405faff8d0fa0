"""A consumer of cross-service events for the kernel's tests (mounted on a real spec)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.contracts.events import EventEnvelope
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import ValidationFailed
from wealist.core.events import events_route

APPLIED: list[str] = []


async def record(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    await tx.fetch_val("SELECT 1")  # runs inside the claiming transaction
    tx.on_commit(lambda: APPLIED.append(event.id))


async def explode(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    raise RuntimeError("the consumer failed")


async def refuse(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    raise ValidationFailed("this event can never apply")


async def fail_late(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    await record(ctx, tx, event)  # wrote, and asked for a side effect after commit ...
    raise RuntimeError("... then failed: neither may survive")


ROUTES: list[ControllerRouterHandler] = [
    events_route(
        "board",
        {
            "probe.recorded": record,
            "probe.exploding": explode,
            "probe.refused": refuse,
            "probe.failing_late": fail_late,
        },
    )
]
