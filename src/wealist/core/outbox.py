"""Transactional outbox: cross-service events that survive crashes.

A producer calls :func:`enqueue` inside the transaction that changes its data, so the
event exists if and only if the change committed. :class:`OutboxRelay` claims due rows by
leasing them: one autocommit statement (``FOR UPDATE SKIP LOCKED``, so several replicas
never claim the same row) moves their ``next_attempt_at`` ``lease_s`` ahead, and no other
relay takes them until the lease runs out. The rows are delivered with no transaction (and
no pooled connection) held, then marked in one statement: delivered, set aside, or due
again with backoff. A crash between delivery and marking leaves them leased: due again
when the lease ends, and delivered again, so consumers apply each event id once with
:func:`claim_event` / :func:`claim_events`. ``NOTIFY`` (sent on commit) only wakes the
relay early; polling alone would be enough.

The relay keeps up to ``max_in_flight`` batches in delivery at once: while one is on its
way, the events committed since are claimed and sent beside it, and a relay at its bound
claims a bigger batch once a slot frees (the batch grows with the load, as a group
commit's does). A deliverer with ``many`` (core.events.HttpDelivery) sends a batch as one
request per consumer.

A delivery the consumer refuses for good (:class:`EventRejectedError`) is set aside and
logged; any other failure is retried with exponential backoff (1 s, 2 s, 4 s, ... capped at
``max_backoff_s``); ``attempts`` and ``last_error`` on the row say why an event is stuck.
Lag is exported: the backlog gauges of the database's pool (``<svc>_service_outbox_pending``,
``..._outbox_oldest_pending_age_seconds``) and, per delivered event, the histogram
``<svc>_service_outbox_delivery_lag_seconds`` of :class:`RelayMetrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime

import msgspec
import structlog
from prometheus_client import CollectorRegistry, Gauge, Histogram

from wealist.contracts.events import EventEnvelope
from wealist.core.db import Conn, Database, Tx
from wealist.core.jobs import cancel_and_wait

__all__ = (
    "CHANNEL",
    "EventRejectedError",
    "OutboxRelay",
    "RelayMetrics",
    "claim_event",
    "claim_events",
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
# The lease: due rows (locked only for this statement, SKIP LOCKED) are moved lease_s ahead
# and committed at once, so no relay's claim sees them as due until the lease ends.
# statement_timestamp(): the due test must use this statement's start, never an earlier
# transaction start that a producer committing since could postdate.
_CLAIM = """
WITH due AS (
    SELECT id FROM outbox
    WHERE delivered_at IS NULL AND next_attempt_at <= statement_timestamp()
    ORDER BY next_attempt_at, id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox AS o
SET next_attempt_at = statement_timestamp() + make_interval(secs => %s)
FROM due
WHERE o.id = due.id
RETURNING o.id, o.event_id::text AS event_id, o.event_type, o.payload::text AS payload,
          o.created_at, o.attempts
"""
# A batch's outcomes in one statement: retry_in_s NULL is delivered (error NULL) or set
# aside (error 'rejected: ...'); otherwise due again after retry_in_s. A row another relay
# delivered meanwhile (after this one's lease ran out) is left as it is.
_MARK = """
UPDATE outbox AS o
SET attempts = o.attempts + 1,
    delivered_at = CASE WHEN m.retry_in_s IS NULL THEN now() END,
    next_attempt_at = CASE
        WHEN m.retry_in_s IS NULL THEN o.next_attempt_at
        ELSE clock_timestamp() + make_interval(secs => m.retry_in_s)
    END,
    last_error = coalesce(m.error, o.last_error)
FROM unnest(%b::bigint[], %b::float8[], %b::text[]) AS m(id, retry_in_s, error)
WHERE o.id = m.id AND o.delivered_at IS NULL
"""
# A relay that stops mid-delivery hands its rows back (due now) rather than leaving them
# leased: another replica, or the restarted process, delivers them without waiting.
_RELEASE = """
UPDATE outbox SET next_attempt_at = statement_timestamp()
WHERE id = ANY(%b::bigint[]) AND delivered_at IS NULL
"""
_PRUNE = "DELETE FROM outbox WHERE delivered_at < now() - make_interval(secs => %s)"
_ENQUEUE_MANY = """
WITH events AS (
    INSERT INTO outbox (event_id, event_type, payload)
    SELECT * FROM unnest(%b::uuid[], %b::text[], %b::jsonb[])
    RETURNING id
)
SELECT pg_notify('wealist_outbox', '') FROM events LIMIT 1
"""
_CLAIM_EVENT = "INSERT INTO inbox (event_id) VALUES (%s) ON CONFLICT DO NOTHING"
# In id order: two deliveries of overlapping batches (a redelivery racing the first) wait
# on each other's rows in one order, never deadlock.
_CLAIM_EVENTS = """
INSERT INTO inbox (event_id)
SELECT DISTINCT id FROM unnest(%b::uuid[]) AS t(id) ORDER BY id
ON CONFLICT DO NOTHING
RETURNING event_id::text
"""
# The backlog for /metrics (outbox_pending_idx covers the pending rows; leased rows count:
# they are not delivered yet).
_BACKLOG = """
SELECT count(*)::int AS pending,
       COALESCE(EXTRACT(EPOCH FROM statement_timestamp() - min(created_at)), 0)::int AS age_s
FROM outbox
WHERE delivered_at IS NULL
"""
BACKLOG_EVERY_S = 1.0  # the backlog query runs at most this often, however often we drain
RELEASE_TIMEOUT_S = 1.0
# Commit -> delivered, seconds: fine where the target is (1 s), coarse where outages are.
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


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


class RelayMetrics:
    """``<ns>_outbox_delivery_lag_seconds`` (each delivered event: its producer's commit to
    the consumer's acknowledgement, as seen when the row is marked) and
    ``<ns>_outbox_batches_in_flight``. One per registry and namespace (:meth:`of`)."""

    _known: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, RelayMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, namespace: str, registry: CollectorRegistry) -> None:
        self.lag = Histogram(
            "outbox_delivery_lag_seconds",
            "Outbox events from commit to delivered",
            namespace=namespace,
            registry=registry,
            buckets=LAG_BUCKETS,
        )
        self.in_flight = Gauge(
            "outbox_batches_in_flight",
            "Outbox batches being delivered now",
            namespace=namespace,
            registry=registry,
            multiprocess_mode="livesum",
        )

    @classmethod
    def of(cls, registry: CollectorRegistry, namespace: str) -> RelayMetrics:
        """The metrics of ``namespace`` in ``registry``, registered the first time."""
        found = cls._known.setdefault(registry, {})
        if namespace not in found:
            found[namespace] = cls(namespace, registry)
        return found[namespace]


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


async def claim_events(conn: Conn, event_ids: Sequence[str]) -> set[str]:
    """Consumer side, a batch in one round trip: the ids (canonical UUID text) seen for the
    first time. A concurrent transaction claiming one of them waits until this one ends."""
    if not event_ids:
        return set()
    return set(await conn.fetch_column(_CLAIM_EVENTS, (list(event_ids),)))


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
        max_in_flight: int = 4,
        lease_s: float | None = None,
        metrics: RelayMetrics | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.db = db
        self.deliver_timeout_s = deliver_timeout_s  # a hung consumer must not keep rows leased
        self.deliver = deliver
        self.batch = batch
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self.retention_s = retention_s
        self.max_in_flight = max_in_flight
        # Longer than a delivery may take (its timeout) plus marking it, so a live relay's
        # rows are not delivered a second time; what a crash costs is this wait.
        self.lease_s = lease_s if lease_s is not None else deliver_timeout_s + 5.0
        self.metrics = metrics
        self._in_flight: set[asyncio.Task[int]] = set()
        self._measured_at = -BACKLOG_EVERY_S

    async def run_once(self) -> int:
        """Claim and deliver one batch of due events; returns how many were delivered."""
        return await self._deliver_and_mark(await self._claim())

    async def _claim(self) -> list[_Pending]:
        async with self.db.connection() as conn:
            rows = await conn.fetch_all(_CLAIM, (self.batch, self.lease_s), _Pending)
        rows.sort(key=lambda row: row.id)  # outbox order (RETURNING has none)
        return rows

    async def _deliver_and_mark(self, rows: list[_Pending]) -> int:
        """Deliver claimed rows (no transaction open meanwhile), then mark them all in one
        statement; returns how many were delivered."""
        if not rows:
            return 0
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
        ids: list[int] = []
        retry_in: list[float | None] = []
        errors: list[str | None] = []
        delivered: list[_Pending] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            ids.append(row.id)
            if outcome is None:
                retry_in.append(None)
                errors.append(None)
                delivered.append(row)
            elif isinstance(outcome, EventRejectedError):  # a retry cannot help
                retry_in.append(None)
                errors.append(f"rejected: {outcome}"[:500])
                log.error("outbox.event_rejected", event_id=row.event_id, reason=str(outcome))
            else:  # any other failure: retry with backoff
                delay = min(self.max_backoff_s, 2.0 ** min(row.attempts, 16))
                retry_in.append(delay)
                errors.append(f"{type(outcome).__name__}: {outcome}"[:500])
                log.warning("outbox.delivery_failed", event_id=row.event_id, retry_in_s=delay)
        async with self.db.connection() as conn:
            await conn.execute(_MARK, (ids, retry_in, errors))
        if self.metrics is not None and delivered:
            now = time.time()
            for row in delivered:
                self.metrics.lag.observe(max(0.0, now - row.created_at.timestamp()))
        return len(delivered)

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

    # --- batches in flight ----------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Batches being delivered now (at most ``max_in_flight``)."""
        return sum(1 for task in self._in_flight if not task.done())

    def _start(self, rows: list[_Pending]) -> None:
        task = asyncio.create_task(self._deliver_in_background(rows), name="outbox-delivery")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _deliver_in_background(self, rows: list[_Pending]) -> int:
        """One batch in flight. Never raises: a failure (the database gone while marking)
        leaves the rows leased, due again when the lease ends."""
        if self.metrics is not None:
            self.metrics.in_flight.inc()
        try:
            return await self._deliver_and_mark(rows)
        except asyncio.CancelledError:
            await self._release(rows)
            raise
        except Exception as exc:  # noqa: BLE001  # logged; the lease brings the rows back
            log.warning("outbox.batch_failed", error=type(exc).__name__, detail=str(exc))
            return 0
        finally:
            if self.metrics is not None:
                self.metrics.in_flight.dec()

    async def _release(self, rows: list[_Pending]) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(RELEASE_TIMEOUT_S), self.db.connection() as conn:
                await conn.execute(_RELEASE, ([row.id for row in rows],))

    async def _wait_for_a_slot(self) -> None:
        while self.in_flight >= self.max_in_flight:
            running = {task for task in self._in_flight if not task.done()}
            await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Claim due rows and start their delivery, batch after batch, until a claim comes
        back short; with ``max_in_flight`` batches on their way it waits for one to end.
        Returns while the last batches are still being delivered."""
        while True:
            await self._wait_for_a_slot()
            rows = await self._claim()
            if rows:
                self._start(rows)
            if len(rows) < self.batch:
                return

    async def measure_backlog(self) -> tuple[int, int]:
        """How many events wait and how old the oldest is (seconds); kept on the database
        for its metrics (``<svc>_service_outbox_pending``, ``..._oldest_pending_age_seconds``)
        so an alert sees a consumer that stays down."""
        async with self.db.connection() as conn:
            row = await conn.fetch_one(_BACKLOG, None, _Backlog)
        backlog = (row.pending, row.age_s) if row else (0, 0)
        self.db.outbox_backlog = backlog
        self._measured_at = time.monotonic()
        return backlog

    async def prune(self) -> int:
        async with self.db.connection() as conn:
            return await conn.execute(_PRUNE, (self.retention_s,))

    async def run_forever(self) -> None:
        """Drain, then sleep until NOTIFY or the poll interval; survives database outages.

        Only cancellation stops it (the batches in flight are cancelled with it and hand
        their rows back): any other error is logged and the loop starts over after
        ``poll_s`` (a relay that died silently would strand every later event).
        """
        try:
            while True:
                try:
                    await self._listen_and_drain()
                except Exception as exc:  # noqa: BLE001  # outage or bug: log, wait, start over
                    log.warning("outbox.relay_error", error=type(exc).__name__, detail=str(exc))
                    await asyncio.sleep(self.poll_s)
        finally:
            await cancel_and_wait(list(self._in_flight), wait_s=RELEASE_TIMEOUT_S + 1.0)

    async def _listen_and_drain(self) -> None:
        async with await self.db.connect() as listener:
            # LISTEN before the first drain: an event committed in between still wakes us.
            await listener.execute(f"LISTEN {CHANNEL}")
            rounds = 0
            while True:
                await self.drain()
                if time.monotonic() - self._measured_at >= BACKLOG_EVERY_S:
                    await self.measure_backlog()
                rounds += 1
                if rounds % 1000 == 0:
                    await self.prune()
                async for _ in listener.notifies(timeout=self.poll_s, stop_after=1):
                    pass
                # One drain serves every NOTIFY that is already queued: consume them now
                # rather than running one empty claim per committed producer.
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
