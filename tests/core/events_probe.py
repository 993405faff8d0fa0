"""A consumer of cross-service events for the kernel's tests (mounted on a real spec)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from litestar.types import ControllerRouterHandler
from typing_extensions import override

from wealist.contracts.events import EventEnvelope
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import ValidationFailed
from wealist.core.events import BatchHandler, events_route

APPLIED: list[str] = []
# Each committed apply_many call of the batch probe: the event ids it applied, in order.
BATCHES: list[list[str]] = []


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


class Batched(msgspec.Struct, frozen=True, kw_only=True):
    refuse: bool = False  # parse refuses it (a 4xx): alone, before any claim
    explode: bool = False  # apply_many fails on it (not a 4xx)
    refuse_late: bool = False  # apply_many refuses it (a 4xx)


class BatchProbe(BatchHandler[Batched]):
    """``probe.batched``: a run of them is one apply_many call (one statement)."""

    @override
    def parse(self, event: EventEnvelope) -> Batched:
        item = msgspec.json.decode(event.payload, type=Batched)
        if item.refuse:
            raise ValidationFailed("this batched event can never apply")
        return item

    @override
    async def apply_many(
        self, ctx: ServiceContext, tx: Tx, items: Sequence[tuple[EventEnvelope, Batched]]
    ) -> None:
        await tx.fetch_val("SELECT 1")  # the whole run in one statement
        ids = [event.id for event, _ in items]
        # Side effects asked for before failing: a failed call must leave none of them.
        tx.on_commit(lambda: BATCHES.append(ids))
        tx.on_commit(lambda: APPLIED.extend(ids))
        if any(item.explode for _, item in items):
            raise RuntimeError("the batch apply failed")
        if any(item.refuse_late for _, item in items):
            raise ValidationFailed("one event of the batch can never apply")


ROUTES: list[ControllerRouterHandler] = [
    events_route(
        "board",
        {
            "probe.recorded": record,
            "probe.exploding": explode,
            "probe.refused": refuse,
            "probe.failing_late": fail_late,
            "probe.batched": BatchProbe(),
        },
    )
]
