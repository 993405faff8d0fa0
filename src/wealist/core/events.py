"""Cross-service events between processes: the relay's HTTP delivery and the receiving route.

A producer's :class:`~wealist.core.outbox.OutboxRelay` hands each event to
:class:`HttpDelivery`, which posts it to every consumer named in
:data:`wealist.contracts.events.CONSUMERS` (``POST <consumer>/api/internal/events/<consumer>``
with the internal key). A consumer declares ``ServiceSpec.event_handlers``; :func:`events_route`
receives the post, claims the event id in the service's inbox and runs the handler in that
same transaction, so an event delivered twice is applied once.

A relay batch goes to each consumer as one post of a JSON array (one round trip and one
commit for up to a batch of events, in outbox order). A handler that is a
:class:`BatchHandler` takes each run of consecutive events of its type at once: their
payloads checked first (one that can never apply is refused alone), their ids claimed in
one statement, then applied in one call (noti: one multi-row insert, one pipelined
publish); if that call fails, the run is applied again event by event. Any other handler
applies each event in a savepoint of its own, so one the consumer refuses (a 4xx of the
handler) is reported alone while the others commit. A consumer that answers the array
with a 4xx (an older version that takes single events) gets them one by one.
"""

from __future__ import annotations

import abc
import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import msgspec
import structlog
from litestar import Request, post
from litestar.handlers import HTTPRouteHandler

from wealist.contracts.events import CONSUMERS, EventEnvelope, events_path
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.deps import Ctx, Internal
from wealist.core.errors import AppError, ValidationFailed
from wealist.core.internal import InternalClient
from wealist.core.outbox import EventRejectedError, claim_event, claim_events
from wealist.core.settings import CoreSettings

__all__ = (
    "BatchHandler",
    "DeliveryError",
    "EventAck",
    "EventAcks",
    "EventHandler",
    "HttpDelivery",
    "events_route",
)

EventHandler = Callable[[ServiceContext, Tx, EventEnvelope], Awaitable[None]]
T = TypeVar("T")

log = structlog.get_logger("wealist.events")
_encode = msgspec.json.Encoder().encode
# 4xx a retry can cure: the key or route not deployed yet, timeouts, throttling.
_RETRYABLE = frozenset({401, 403, 404, 408, 409, 425, 429})
_decode = msgspec.json.Decoder(EventEnvelope | list[EventEnvelope]).decode


class DeliveryError(Exception):
    """A consumer did not accept an event; the relay retries it later."""


class BatchHandler(abc.ABC, Generic[T]):
    """An event handler that also applies many events of its type at once.

    ``parse`` reads one event (raising an :class:`AppError` with a 4xx for one that can
    never apply, which refuses it alone); ``apply_many`` applies events whose ids are
    claimed already, in the receiving transaction. Called as a plain handler it applies the
    one event (the single-event post).
    """

    @abc.abstractmethod
    def parse(self, event: EventEnvelope) -> T: ...

    @abc.abstractmethod
    async def apply_many(
        self, ctx: ServiceContext, tx: Tx, items: Sequence[tuple[EventEnvelope, T]]
    ) -> None: ...

    async def __call__(self, ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
        await self.apply_many(ctx, tx, [(event, self.parse(event))])


class HttpDelivery:
    """Posts an event to each of its consumers; raises unless every one accepted it."""

    def __init__(self, internal: InternalClient, settings: CoreSettings, producer: str) -> None:
        self._internal = internal
        self._settings = settings
        self._producer = producer

    async def __call__(self, event: EventEnvelope) -> None:
        [outcome] = await self.many([event])
        if outcome is not None:
            raise outcome

    async def many(self, events: Sequence[EventEnvelope]) -> list[Exception | None]:
        """Deliver ``events`` (in order) to their consumers, one post per consumer, the
        consumers in parallel; per event, None when every consumer took it, else why not
        (an :class:`EventRejectedError` when one refused it for good)."""
        outcomes: list[Exception | None] = [None] * len(events)
        wanted: dict[str, list[int]] = {}  # consumer -> indexes of its events, in order
        for index, event in enumerate(events):
            for service in CONSUMERS.get(event.type, ()):
                wanted.setdefault(service, []).append(index)
        answers = await asyncio.gather(
            *(
                self._post_all(service, [events[i] for i in indexes])
                for service, indexes in wanted.items()
            )
        )
        for indexes, answer in zip(wanted.values(), answers, strict=True):
            for index, outcome in zip(indexes, answer, strict=True):
                outcomes[index] = _worse(outcomes[index], outcome)
        return outcomes

    async def _post_all(self, service: str, events: list[EventEnvelope]) -> list[Exception | None]:
        if len(events) == 1:
            return [await self._post_one(service, events[0])]
        try:
            response = await self._post(service, _encode(events))
        except Exception as exc:  # noqa: BLE001  # unreachable: every event is retried
            return [exc] * len(events)
        status = response.status_code
        if 400 <= status < 500 and status not in _RETRYABLE:
            # A consumer that takes one event per post: deliver them that way.
            return [await self._post_one(service, event) for event in events]
        if not 200 <= status < 300:
            return [DeliveryError(f"{service} answered {status}")] * len(events)
        return _read_acks(service, response.content, len(events))

    async def _post_one(self, service: str, event: EventEnvelope) -> Exception | None:
        try:
            response = await self._post(service, _encode(event))
        except Exception as exc:  # noqa: BLE001  # unreachable, timeout: retried later
            return exc
        status = response.status_code
        if 400 <= status < 500 and status not in _RETRYABLE:
            # The consumer says this event can never apply (malformed for it).
            return EventRejectedError(f"{service} answered {status}: {response.text[:300]}")
        if not 200 <= status < 300:
            return DeliveryError(f"{service} answered {status} to {event.type}")
        return None

    async def _post(self, service: str, body: bytes) -> Any:
        url = self._settings.service_url(service) + events_path(service)
        headers = {"content-type": "application/json", "x-calling-service": self._producer}
        return await self._internal.request("POST", url, content=body, headers=headers)


def _read_acks(service: str, body: bytes, count: int) -> list[Exception | None]:
    try:
        acks = _decode_acks(body).results
    except msgspec.DecodeError as exc:
        return [DeliveryError(f"{service} answered {exc}")] * count
    if len(acks) != count:
        return [DeliveryError(f"{service} acknowledged {len(acks)} of {count}")] * count
    return [_outcome(service, ack) for ack in acks]


def _outcome(service: str, ack: EventAck) -> Exception | None:
    if ack.rejected is not None:
        return EventRejectedError(f"{service}: {ack.rejected}")
    if ack.failed is not None:
        return DeliveryError(f"{service}: {ack.failed}")
    return None


def _worse(first: Exception | None, second: Exception | None) -> Exception | None:
    """One event's outcome over several consumers: a retry beats a rejection beats success
    (a consumer that refused it for good refuses it again when it is retried)."""
    if first is None or isinstance(first, EventRejectedError):
        return second if second is not None else first
    return first


class EventAck(msgspec.Struct, frozen=True, omit_defaults=True):
    applied: bool  # False: seen before, or a type this service does not apply
    # In a batch, for this event alone: why it can never apply here / why not now (retry).
    rejected: str | None = None
    failed: str | None = None


class EventAcks(msgspec.Struct, frozen=True):
    results: list[EventAck]  # one per event of the batch, in its order


_decode_acks = msgspec.json.Decoder(EventAcks).decode


class _Receiver:
    """Applies events to a service's handlers, each event id once."""

    def __init__(self, handlers: Mapping[str, EventHandler]) -> None:
        self.handlers = handlers

    async def apply(self, ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> bool:
        handler = self.handlers.get(event.type)
        if handler is None or not await claim_event(tx, event.id):
            return False
        await handler(ctx, tx, event)
        return True

    async def apply_alone(self, ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> EventAck:
        """The answer a single post would have given, for this event alone (a savepoint)."""
        try:
            async with tx.savepoint():
                return EventAck(applied=await self.apply(ctx, tx, event))
        except AppError as exc:
            return _refused(exc)
        except Exception as exc:
            log.exception("events.apply_failed", event_id=event.id, type=event.type)
            return EventAck(applied=False, failed=type(exc).__name__)

    async def apply_all(
        self, ctx: ServiceContext, tx: Tx, events: list[EventEnvelope]
    ) -> EventAcks:
        """A batch, in order: runs of a batch handler's type together, the rest alone."""
        acks: list[EventAck] = []
        start = 0
        while start < len(events):
            handler = self.handlers.get(events[start].type)
            if not isinstance(handler, BatchHandler):
                acks.append(await self.apply_alone(ctx, tx, events[start]))
                start += 1
                continue
            end = start + 1
            while end < len(events) and events[end].type == events[start].type:
                end += 1
            acks += await self.apply_run(ctx, tx, handler, events[start:end])
            start = end
        return EventAcks(acks)

    async def apply_run(
        self, ctx: ServiceContext, tx: Tx, handler: BatchHandler[Any], run: list[EventEnvelope]
    ) -> list[EventAck]:
        """Consecutive events of one batch handler's type: one claim, one apply; if the
        apply fails, each event again alone (so only the one at fault is refused)."""
        acks: list[EventAck] = [EventAck(applied=False)] * len(run)
        parsed: list[tuple[int, EventEnvelope, Any]] = []
        for index, event in enumerate(run):
            try:
                parsed.append((index, event, handler.parse(event)))
            except AppError as exc:
                acks[index] = _refused(exc)
            except Exception as exc:
                log.exception("events.apply_failed", event_id=event.id, type=event.type)
                acks[index] = EventAck(applied=False, failed=type(exc).__name__)
        try:
            async with tx.savepoint():
                fresh = await claim_events(tx, [event.id for _, event, _ in parsed])
                chosen: list[tuple[EventEnvelope, Any]] = []
                for index, event, item in parsed:
                    canonical = str(uuid.UUID(event.id))
                    first = canonical in fresh
                    fresh.discard(canonical)  # the same id twice in a batch: applied once
                    acks[index] = EventAck(applied=first)
                    if first:
                        chosen.append((event, item))
                if chosen:
                    await handler.apply_many(ctx, tx, chosen)
        except Exception as exc:  # noqa: BLE001  # find the one at fault: each alone
            log.warning("events.batch_failed", error=type(exc).__name__, events=len(parsed))
            for index, event, _ in parsed:
                acks[index] = await self.apply_alone(ctx, tx, event)
        return acks


def events_route(service: str, handlers: Mapping[str, EventHandler]) -> HTTPRouteHandler:
    """``POST /api/internal/events/<service>`` applying ``handlers`` (event type -> handler)
    once per event id; the body is one event or a JSON array of them."""
    receiver = _Receiver(handlers)

    @post(events_path(service), status_code=200, include_in_schema=False)
    async def receive_event(
        ctx: Ctx, internal: Internal, request: Request[Any, Any, Any]
    ) -> EventAck | EventAcks:
        try:  # decoded here, not by the framework: the payload stays raw JSON (msgspec.Raw)
            data = _decode(await request.body())
            for event in data if isinstance(data, list) else [data]:
                uuid.UUID(event.id)
        except (msgspec.DecodeError, ValueError) as exc:
            raise ValidationFailed(f"not an event envelope: {exc}") from None
        async with ctx.database.transaction() as tx:
            if isinstance(data, list):
                return await receiver.apply_all(ctx, tx, data)
            return EventAck(applied=await receiver.apply(ctx, tx, data))

    return receive_event


def _refused(exc: AppError) -> EventAck:
    """An event's handler raised ``exc``: refused for good (a 4xx a retry cannot cure) or
    failed for now."""
    why = f"{exc.status} {exc.message}"[:300]
    if exc.status < 500 and exc.status not in _RETRYABLE:
        return EventAck(applied=False, rejected=why)
    return EventAck(applied=False, failed=why)
