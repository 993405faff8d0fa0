"""Cross-service events between processes: the relay's HTTP delivery and the receiving route.

A producer's :class:`~wealist.core.outbox.OutboxRelay` hands each event to
:class:`HttpDelivery`, which posts it to every consumer named in
:data:`wealist.contracts.events.CONSUMERS` (``POST <consumer>/api/internal/events/<consumer>``
with the internal key). A consumer declares ``ServiceSpec.event_handlers``; :func:`events_route`
receives the post, claims the event id in the service's inbox and runs the handler in that
same transaction, so an event delivered twice is applied once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from litestar import Request, post
from litestar.handlers import HTTPRouteHandler

from wealist.contracts.events import CONSUMERS, EventEnvelope, events_path
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.deps import Ctx, Internal
from wealist.core.errors import ValidationFailed
from wealist.core.internal import InternalClient
from wealist.core.outbox import EventRejectedError, claim_event
from wealist.core.settings import CoreSettings

__all__ = ("DeliveryError", "EventAck", "EventHandler", "HttpDelivery", "events_route")

EventHandler = Callable[[ServiceContext, Tx, EventEnvelope], Awaitable[None]]

_encode = msgspec.json.Encoder().encode
# 4xx a retry can cure: the key or route not deployed yet, timeouts, throttling.
_RETRYABLE = frozenset({401, 403, 404, 408, 409, 425, 429})
_decode = msgspec.json.Decoder(EventEnvelope).decode


class DeliveryError(Exception):
    """A consumer did not accept an event; the relay retries it later."""


class HttpDelivery:
    """Posts an event to each of its consumers; raises unless every one accepted it."""

    def __init__(self, internal: InternalClient, settings: CoreSettings, producer: str) -> None:
        self._internal = internal
        self._settings = settings
        self._producer = producer

    async def __call__(self, event: EventEnvelope) -> None:
        consumers = CONSUMERS.get(event.type, ())
        if not consumers:
            return
        body = _encode(event)
        headers = {"content-type": "application/json", "x-calling-service": self._producer}
        for service in consumers:
            url = self._settings.service_url(service) + events_path(service)
            response = await self._internal.request("POST", url, content=body, headers=headers)
            status = response.status_code
            if 400 <= status < 500 and status not in _RETRYABLE:
                # The consumer says this event can never apply (malformed for it).
                raise EventRejectedError(f"{service} answered {status}: {response.text[:300]}")
            if not 200 <= status < 300:
                raise DeliveryError(f"{service} answered {status} to {event.type}")


class EventAck(msgspec.Struct, frozen=True):
    applied: bool  # False: seen before, or a type this service does not apply


def events_route(service: str, handlers: Mapping[str, EventHandler]) -> HTTPRouteHandler:
    """``POST /api/internal/events/<service>`` applying ``handlers`` (event type -> handler)
    once per event id."""

    @post(events_path(service), status_code=200, include_in_schema=False)
    async def receive_event(
        ctx: Ctx, internal: Internal, request: Request[Any, Any, Any]
    ) -> EventAck:
        try:  # decoded here, not by the framework: the payload stays raw JSON (msgspec.Raw)
            data = _decode(await request.body())
            uuid.UUID(data.id)
        except (msgspec.DecodeError, ValueError) as exc:
            raise ValidationFailed(f"not an event envelope: {exc}") from None
        handler = handlers.get(data.type)
        if handler is None:
            return EventAck(applied=False)
        async with ctx.database.transaction() as tx:
            if not await claim_event(tx, data.id):
                return EventAck(applied=False)
            await handler(ctx, tx, data)
        return EventAck(applied=True)

    return receive_event
