"""Transactional outbox: cross-service events that survive crashes.

A producer calls :func:`enqueue` inside the transaction that changes its data, so the
event exists if and only if the change committed. :class:`OutboxRelay` claims due rows
with ``FOR UPDATE SKIP LOCKED`` (several replicas never claim the same row), delivers
them, and marks them delivered; a crash between delivery and marking delivers again, so
consumers apply each event id once with :func:`claim_event`. ``NOTIFY`` (sent on commit)
only wakes the relay early; polling alone would be enough.

A delivery the consumer refuses for good (:class:`EventRejectedError`) is set aside and
logged; any other failure is retried with exponential backoff (1 s, 2 s, 4 s, ... capped at
``max_backoff_s``); ``attempts`` and ``last_error`` on the row say why an event is stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import msgspec
import structlog

from wealist.contracts.events import EventEnvelope
from wealist.core.db import Conn, Database, Tx
from wealist.core.jobs import cancel_and_wait

__all__ = (
    "CHANNEL",
    "EventRejectedError",
    "OutboxRelay",
    "claim_event",
    "enqueue",
    "enqueue_many",
)

CHANNEL = "wealist_outbox"
log = structlog.get_logger("wealist.outbox")

# One event; a deliverer may also have ``many(events) -> [None | why not, ...]`` for a batch
# (core.events.HttpDelivery: one post per consumer instead of one per event).
Deliver = Callable[[EventEnvelope], Awaitable[None]]

# One round trip: the row, and a NOTIFY that the server sends only if the transaction
# commits (several in one transaction are folded into one).
_ENQUEUE = """
WITH event AS (
    INSERT INTO outbox (event_id, event_type, payload) VALUES (%s, %s, %s::jsonb)
    RETURNING id
)
SELECT pg_notify('wealist_outbox', '') FROM event
"""
# statement_timestamp(), not now(): now() is the start of the relay's transaction, which
# can be earlier than the start (the created_at) of a producer that committed since.
_CLAIM = """
SELECT id, event_id::text AS event_id, event_type, payload::text AS payload, created_at, attempts
FROM outbox
WHERE delivered_at IS NULL AND next_attempt_at <= statement_timestamp()
ORDER BY next_attempt_at, id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""
_DELIVERED = "UPDATE outbox SET delivered_at = now(), attempts = attempts + 1 WHERE id = ANY(%s)"
_FAILED = """
UPDATE outbox
SET attempts = attempts + 1,
    next_attempt_at = clock_timestamp() + make_interval(secs => %s),
    last_error = %s
WHERE id = %s
"""
_REJECTED = """
UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = %s WHERE id = %s
"""
_PRUNE = "DELETE FROM outbox WHERE delivered_at < now() - make_interval(secs => %s)"
_ENQUEUE_MANY = """
WITH events AS (
    INSERT INTO outbox (event_id, event_type, payload)
    SELECT * FROM unnest(%s::uuid[], %s::text[], %s::jsonb[])
    RETURNING id
)
SELECT pg_notify('wealist_outbox', '') FROM events LIMIT 1
"""
_CLAIM_EVENT = "INSERT INTO inbox (event_id) VALUES (%s) ON CONFLICT DO NOTHING"
# The backlog for /metrics (outbox_pending_idx covers the pending rows).
_BACKLOG = """
SELECT count(*)::int AS pending,
       COALESCE(EXTRACT(EPOCH FROM statement_timestamp() - min(created_at)), 0)::int AS age_s
FROM outbox
WHERE delivered_at IS NULL
"""


class _Backlog(msgspec.Struct):
    pending: int
    age_s: int


class EventRejectedError(Exception):
    """A consumer refused an event for good (it is malformed for it): retrying cannot
    help, so the relay sets it aside (``delivered_at`` with ``last_error`` 'rejected: ...')
    instead of retrying it forever."""


class _Pending(msgspec.Struct):
    id: int
    event_id: str
    event_type: str
    payload: str
    created_at: datetime
    attempts: int


async def enqueue(tx: Tx, event_type: str, payload: object, *, event_id: str | None = None) -> str:
    """Record an event in the caller's transaction (one round trip); returns its id."""
    eid = event_id or str(uuid.uuid4())
    await tx.execute(_ENQUEUE, (eid, event_type, msgspec.json.encode(payload).decode()))
    return eid


async def enqueue_many(tx: Tx, events: list[tuple[str, object]]) -> list[str]:
    """Record several ``(event_type, payload)`` events in one round trip; returns their ids."""
    if not events:
        return []
    ids = [str(uuid.uuid4()) for _ in events]
    types = [event_type for event_type, _ in events]
    payloads = [msgspec.json.encode(payload).decode() for _, payload in events]
    await tx.execute(_ENQUEUE_MANY, (ids, types, payloads))
    return ids


async def claim_event(conn: Conn, event_id: str) -> bool:
    """Consumer side: True the first time ``event_id`` is seen (call inside the apply tx)."""
    return await conn.execute(_CLAIM_EVENT, (event_id,)) == 1


class OutboxRelay:
    """Delivers pending outbox rows at least once."""

    def __init__(
        self,
        db: Database,
        deliver: Deliver,
        *,
        batch: int = 100,
        poll_s: float = 2.0,
        # A consumer back from an outage gets every waiting event within this (T09: none
        # unpublished 60 s after recovery); a consumer that stays down costs one failed
        # post per event per 30 s.
        max_backoff_s: float = 30.0,
        retention_s: float = 86_400.0,
        deliver_timeout_s: float = 10.0,
    ) -> None:
        self.db = db
        self.deliver_timeout_s = deliver_timeout_s  # a hung consumer must not hold rows locked
        self.deliver = deliver
        self.batch = batch
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self.retention_s = retention_s

    async def run_once(self) -> int:
        """Deliver one batch of due events; returns how many were delivered."""
        return (await self._batch())[1]

    async def _batch(self) -> tuple[int, int]:
        """Claim up to ``batch`` due rows and deliver them: (claimed, delivered).

        The claimed rows stay locked until this transaction ends, so another relay skips
        them. If the process dies before the end, the server rolls back: the rows are
        neither marked nor counted, and are delivered again.
        """
        delivered: list[int] = []
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(_CLAIM, (self.batch,), _Pending)
            events = [
                EventEnvelope(
                    id=row.event_id,
                    type=row.event_type,
                    occurred_at=_iso(row.created_at),
                    payload=msgspec.Raw(row.payload.encode()),
                )
                for row in rows
            ]
            outcomes = await self._deliver_all(events)
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome is None:
                    delivered.append(row.id)
                elif isinstance(outcome, EventRejectedError):  # a retry cannot help
                    await tx.execute(_REJECTED, (f"rejected: {outcome}"[:500], row.id))
                    log.error("outbox.event_rejected", event_id=row.event_id, reason=str(outcome))
                else:  # any other failure: retry with backoff
                    delay = min(self.max_backoff_s, 2.0 ** min(row.attempts, 16))
                    error = f"{type(outcome).__name__}: {outcome}"[:500]
                    await tx.execute(_FAILED, (delay, error, row.id))
                    log.warning("outbox.delivery_failed", event_id=row.event_id, retry_in_s=delay)
            if delivered:
                await tx.execute(_DELIVERED, (delivered,))
        return len(rows), len(delivered)

    async def _deliver_all(self, events: list[EventEnvelope]) -> list[Exception | None]:
        """Each event's outcome: None (delivered) or why not. A deliverer with ``many``
        takes the whole batch at once; a plain one, event by event, in order."""
        if not events:
            return []
        many = getattr(self.deliver, "many", None)
        if many is not None:
            try:
                found: list[Exception | None] = await asyncio.wait_for(
                    many(events), self.deliver_timeout_s
                )
            except Exception as exc:  # noqa: BLE001  # the batch as a whole: retried
                return [exc] * len(events)
            return found
        outcomes: list[Exception | None] = []
        for event in events:
            try:
                await asyncio.wait_for(self.deliver(event), self.deliver_timeout_s)
            except Exception as exc:  # noqa: BLE001  # recorded on the row, retried
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes

    async def measure_backlog(self) -> tuple[int, int]:
        """How many events wait and how old the oldest is (seconds); kept on the database
        for its metrics (``<svc>_service_outbox_pending``, ``..._oldest_pending_age_seconds``)
        so an alert sees a consumer that stays down."""
        async with self.db.connection() as conn:
            row = await conn.fetch_one(_BACKLOG, None, _Backlog)
        backlog = (row.pending, row.age_s) if row else (0, 0)
        self.db.outbox_backlog = backlog
        return backlog

    async def prune(self) -> int:
        async with self.db.connection() as conn:
            return await conn.execute(_PRUNE, (self.retention_s,))

    async def run_forever(self) -> None:
        """Drain, then sleep until NOTIFY or the poll interval; survives database outages.

        Only cancellation stops it: any other error is logged and the loop starts over after
        ``poll_s`` (a relay that died silently would strand every later event).
        """
        while True:
            try:
                await self._listen_and_drain()
            except Exception as exc:  # noqa: BLE001  # outage or bug: log, wait, start over
                log.warning("outbox.relay_error", error=type(exc).__name__, detail=str(exc))
                await asyncio.sleep(self.poll_s)

    async def _listen_and_drain(self) -> None:
        async with await self.db.connect() as listener:
            # LISTEN before the first drain: an event committed in between still wakes us.
            await listener.execute(f"LISTEN {CHANNEL}")
            rounds = 0
            while True:
                # A full batch means more may be due (even if some of it failed).
                while (await self._batch())[0] == self.batch:
                    pass
                await self.measure_backlog()
                rounds += 1
                if rounds % 1000 == 0:
                    await self.prune()
                async for _ in listener.notifies(timeout=self.poll_s, stop_after=1):
                    pass
                # One drain serves every NOTIFY that is already queued: consume them now
                # rather than running one empty batch per committed producer.
                async for _ in listener.notifies(timeout=0):
                    pass

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OutboxRelay]:
        """Run the relay in the background for the duration of the block."""
        task = asyncio.create_task(self.run_forever(), name="outbox-relay")
        try:
            yield self
        finally:
            await cancel_and_wait([task])


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
