"""Transactional outbox: enqueue in the producer's transaction, relay at least once,
consumer dedupe. Real PostgreSQL, real crashes (``os._exit`` in a separate process)."""

from __future__ import annotations

import asyncio
import collections
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import psycopg
import pytest
from prometheus_client import CollectorRegistry

from wealist.contracts.events import EventEnvelope
from wealist.core.db import Database
from wealist.core.db.migrate import discover, migrate
from wealist.core.outbox import (
    EventRejectedError,
    OutboxRelay,
    RelayMetrics,
    claim_event,
    enqueue,
)

FreshDatabase = Callable[[str], Awaitable[str]]
ROOT = Path(__file__).resolve().parents[2]
OUTBOX = ("outbox", "wealist.core.outbox_migrations")


class OutboxRow(msgspec.Struct):
    event_id: str
    event_type: str
    payload: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


@dataclass
class Consumer:
    """The receiving service: applies each event once, deduped by id in its inbox."""

    db: Database
    seen: list[str] = field(default_factory=list)  # every delivery, duplicates included
    down: bool = False

    async def deliver(self, event: EventEnvelope) -> None:
        self.seen.append(event.id)
        if self.down:
            raise ConnectionError("consumer unavailable")
        await apply(self.db, event, "relay")

    async def applied(self) -> list[tuple[str, str]]:
        async with self.db.connection() as conn:
            cur = await conn.raw.execute("SELECT event_id::text, by FROM applied ORDER BY n")
            return [(r[0], r[1]) for r in await cur.fetchall()]


async def apply(db: Database, event: EventEnvelope, by: str) -> bool:
    """What a consumer does with an event: claim its id and apply it in one transaction."""
    async with db.transaction() as tx:
        if not await claim_event(tx, event.id):
            return False
        await tx.execute("INSERT INTO applied (event_id, by) VALUES (%s, %s)", (event.id, by))
    return True


@dataclass
class Pair:
    producer: Database
    consumer: Consumer


async def open_database(name: str, url: str, **pool: int) -> Database:
    db = Database(name, url, min_size=pool.get("min_size", 1), max_size=pool.get("max_size", 4))
    await db.open(wait=True)
    return db


@pytest.fixture
async def pair(fresh_database: FreshDatabase) -> AsyncIterator[Pair]:
    """A producer database (outbox + a business table) and a consumer database (inbox)."""
    producer_url = await fresh_database("producer")
    consumer_url = await fresh_database("consumer")
    for url in (producer_url, consumer_url):
        await migrate(url, discover(*OUTBOX))
    async with await psycopg.AsyncConnection.connect(producer_url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE business (id serial PRIMARY KEY, note text NOT NULL)")
    async with await psycopg.AsyncConnection.connect(consumer_url, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE applied (n serial, event_id uuid NOT NULL, by text NOT NULL)"
        )
    producer = await open_database("producer", producer_url)
    consumer = await open_database("consumer", consumer_url)
    try:
        yield Pair(producer, Consumer(consumer))
    finally:
        await producer.close()
        await consumer.close()


async def outbox_rows(db: Database) -> list[OutboxRow]:
    async with db.connection() as conn:
        return await conn.fetch_all(
            "SELECT event_id::text AS event_id, event_type, payload::text AS payload, created_at,"
            " attempts, next_attempt_at, delivered_at, last_error FROM outbox ORDER BY id",
            None,
            OutboxRow,
        )


async def produce(db: Database, count: int = 1, *, per_tx: int = 1) -> list[str]:
    """Commit ``count`` events (with a business row each), ``per_tx`` per transaction."""
    ids: list[str] = []
    while len(ids) < count:
        async with db.transaction() as tx:
            for _ in range(min(per_tx, count - len(ids))):
                await tx.execute("INSERT INTO business (note) VALUES ('assigned')")
                ids.append(await enqueue(tx, "task.assigned", {"n": len(ids)}))
    return ids


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds}s: {what}")
        await asyncio.sleep(0.02)


async def run_python(script: str, *args: str) -> tuple[int, str, str]:
    """Run ``script`` with the repo's interpreter in a separate OS process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode().strip(), err.decode()


# --- enqueue and deliver ------------------------------------------------------------------


async def test_enqueue_then_run_once_delivers_the_event_and_marks_it(pair: Pair) -> None:
    delivered: list[EventEnvelope] = []

    async def deliver(event: EventEnvelope) -> None:
        delivered.append(event)

    before = pair.producer.calls
    async with pair.producer.transaction() as tx:
        event_id = await enqueue(tx, "task.assigned", {"task_id": 7, "assignee": "u-1", "n": [1]})
        assert pair.producer.calls - before == 1  # one round trip: row and NOTIFY together
        assert await outbox_rows(pair.producer) == []  # not visible before commit

    relay = OutboxRelay(pair.producer, deliver)
    assert await relay.run_once() == 1

    [event] = delivered
    [row] = await outbox_rows(pair.producer)
    assert event.id == event_id == row.event_id
    assert str(uuid.UUID(event.id)) == event.id
    assert event.type == "task.assigned"
    assert msgspec.json.decode(event.payload) == {"task_id": 7, "assignee": "u-1", "n": [1]}
    assert datetime.fromisoformat(event.occurred_at) == row.created_at
    assert event.occurred_at.endswith("+00:00")
    assert row.delivered_at is not None
    assert row.attempts == 1
    assert row.last_error is None

    assert await relay.run_once() == 0  # delivered means done
    assert len(delivered) == 1


async def test_an_explicit_event_id_is_kept(pair: Pair) -> None:
    chosen = str(uuid.uuid4())
    async with pair.producer.transaction() as tx:
        assert await enqueue(tx, "task.deleted", {}, event_id=chosen) == chosen
    assert [r.event_id for r in await outbox_rows(pair.producer)] == [chosen]


async def test_nothing_is_enqueued_when_the_producing_transaction_rolls_back(pair: Pair) -> None:
    with pytest.raises(RuntimeError, match="validation failed"):
        async with pair.producer.transaction() as tx:
            await tx.execute("INSERT INTO business (note) VALUES ('rolled back')")
            await enqueue(tx, "task.assigned", {"task_id": 1})
            raise RuntimeError("validation failed")

    assert await outbox_rows(pair.producer) == []
    assert await OutboxRelay(pair.producer, pair.consumer.deliver).run_once() == 0
    assert pair.consumer.seen == []


# --- crashes ------------------------------------------------------------------------------

PRODUCER_THAT_DIES_AFTER_COMMIT = """
import asyncio, os, sys
from wealist.core.db import Database
from wealist.core.outbox import enqueue

async def main(url):
    db = Database("producer", url, min_size=1, max_size=1)
    await db.open(wait=True)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO business (note) VALUES ('before the crash')")
        event_id = await enqueue(tx, "task.assigned", {"task_id": 42})
    print(event_id, flush=True)
    os._exit(17)  # committed; no relay ran, nothing was closed

asyncio.run(main(sys.argv[1]))
"""


async def test_an_event_committed_by_a_process_that_then_died_is_delivered_exactly_once(
    pair: Pair,
) -> None:
    code, out, err = await run_python(PRODUCER_THAT_DIES_AFTER_COMMIT, pair.producer.url)
    assert code == 17, err
    event_id = out

    [row] = await outbox_rows(pair.producer)
    assert (row.event_id, row.delivered_at, row.attempts) == (event_id, None, 0)

    relay = OutboxRelay(pair.producer, pair.consumer.deliver)
    assert await relay.run_once() == 1
    assert await relay.run_once() == 0

    assert pair.consumer.seen == [event_id]
    assert await pair.consumer.applied() == [(event_id, "relay")]
    [row] = await outbox_rows(pair.producer)
    assert row.delivered_at is not None


RELAY_THAT_DIES_AFTER_DELIVERY = """
import asyncio, os, sys
from wealist.core.db import Database
from wealist.core.outbox import OutboxRelay, claim_event

async def main(producer_url, consumer_url):
    producer = Database("producer", producer_url, min_size=1, max_size=1)
    consumer = Database("consumer", consumer_url, min_size=1, max_size=1)
    await producer.open(wait=True)
    await consumer.open(wait=True)

    async def deliver(event):
        async with consumer.transaction() as tx:
            if await claim_event(tx, event.id):
                await tx.execute(
                    "INSERT INTO applied (event_id, by) VALUES (%s, 'dead relay')", (event.id,)
                )
        print(event.id, flush=True)
        os._exit(9)  # the consumer committed; the relay dies before marking the row

    await OutboxRelay(producer, deliver, lease_s=1.0).run_once()
    os._exit(3)  # not reached: there was an event to deliver

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def with_application_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


async def test_a_relay_that_dies_after_delivering_causes_a_redelivery_applied_once(
    pair: Pair,
) -> None:
    [event_id] = await produce(pair.producer)
    tag = f"dead-relay-{uuid.uuid4().hex[:6]}"

    code, out, err = await run_python(
        RELAY_THAT_DIES_AFTER_DELIVERY,
        with_application_name(pair.producer.url, tag),
        pair.consumer.db.url,
    )
    assert code == 9, err
    assert out == event_id
    assert await pair.consumer.applied() == [(event_id, "dead relay")]

    async def server_noticed_the_death() -> bool:
        async with pair.producer.connection() as conn:
            left = await conn.fetch_val(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (tag,)
            )
        return bool(left == 0)

    await eventually(server_noticed_the_death, 10, "the dead relay's session to end")
    [row] = await outbox_rows(pair.producer)  # leased, never marked
    assert (row.delivered_at, row.attempts) == (None, 0)
    assert row.next_attempt_at > row.created_at

    relay = OutboxRelay(pair.producer, pair.consumer.deliver)

    async def redelivered() -> bool:  # once the dead relay's lease (1 s) runs out
        return await relay.run_once() == 1

    await eventually(redelivered, 10, "the redelivery after the lease")

    assert pair.consumer.seen == [event_id]  # delivered again ...
    assert await pair.consumer.applied() == [(event_id, "dead relay")]  # ... applied once
    [row] = await outbox_rows(pair.producer)
    assert row.delivered_at is not None
    assert await relay.run_once() == 0


async def test_a_delivery_that_fails_after_the_consumer_applied_it_is_applied_once(
    pair: Pair,
) -> None:
    [event_id] = await produce(pair.producer)
    calls = 0

    async def applies_then_loses_the_ack(event: EventEnvelope) -> None:
        nonlocal calls
        calls += 1
        await pair.consumer.deliver(event)
        if calls == 1:
            raise TimeoutError("response lost after the consumer committed")

    relay = OutboxRelay(pair.producer, applies_then_loses_the_ack, max_backoff_s=0.2)
    assert await relay.run_once() == 0
    [row] = await outbox_rows(pair.producer)
    assert row.attempts == 1
    assert row.last_error == "TimeoutError: response lost after the consumer committed"

    async def redelivered() -> bool:
        return await relay.run_once() == 1

    await eventually(redelivered, 5, "the retry")
    assert pair.consumer.seen == [event_id, event_id]
    assert await pair.consumer.applied() == [(event_id, "relay")]


# --- concurrency --------------------------------------------------------------------------


@dataclass
class Ledger:
    """Deliveries by relay, checked as they happen."""

    probe: Database
    by_relay: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    in_flight: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    def deliver_for(self, relay: str) -> Callable[[EventEnvelope], Awaitable[None]]:
        async def deliver(event: EventEnvelope) -> None:
            if event.id in self.in_flight:
                self.violations.append(f"{event.id} delivered by two relays at once")
            self.in_flight.add(event.id)
            try:
                # The delivering relay holds the row's lease: no claim finds it due.
                async with self.probe.connection() as conn:
                    due = await conn.fetch_val(
                        "SELECT count(*) FROM outbox WHERE event_id = %s"
                        " AND delivered_at IS NULL AND next_attempt_at <= statement_timestamp()",
                        (event.id,),
                    )
                if due != 0:
                    self.violations.append(f"{event.id} delivered while its row was due")
                await asyncio.sleep(0.001)
                self.by_relay[relay].append(event.id)
            finally:
                self.in_flight.discard(event.id)

        return deliver

    def all(self) -> collections.Counter[str]:
        return collections.Counter(i for ids in self.by_relay.values() for i in ids)


@pytest.fixture
async def ledger(pair: Pair) -> AsyncIterator[Ledger]:
    probe = await open_database("probe", pair.producer.url, max_size=4)
    try:
        yield Ledger(probe)
    finally:
        await probe.close()


async def test_two_relays_draining_in_parallel_deliver_every_event_once(
    pair: Pair, ledger: Ledger
) -> None:
    ids = await produce(pair.producer, 200, per_tx=10)
    second = await open_database("producer-b", pair.producer.url)  # another pod's pool
    relays = {
        "a": OutboxRelay(pair.producer, ledger.deliver_for("a"), batch=10),
        "b": OutboxRelay(second, ledger.deliver_for("b"), batch=10),
    }

    async def drain(relay: OutboxRelay) -> int:
        total = 0
        while delivered := await relay.run_once():
            total += delivered
        return total

    try:
        totals = await asyncio.gather(*(drain(r) for r in relays.values()))
    finally:
        await second.close()

    assert ledger.violations == []
    assert sum(totals) == 200
    assert ledger.all() == collections.Counter(ids)  # every event, each exactly once
    assert ledger.by_relay["a"]
    assert ledger.by_relay["b"]  # both relays took part
    assert all(r.delivered_at is not None for r in await outbox_rows(pair.producer))


async def test_two_running_relays_deliver_events_committed_while_they_run(
    pair: Pair, ledger: Ledger
) -> None:
    second = await open_database("producer-b", pair.producer.url)
    a = OutboxRelay(pair.producer, ledger.deliver_for("a"), batch=10, poll_s=0.5)
    b = OutboxRelay(second, ledger.deliver_for("b"), batch=10, poll_s=0.5)
    try:
        async with a.running(), b.running():
            ids: list[str] = []
            for _ in range(20):
                ids += await produce(pair.producer, 10, per_tx=5)
                await asyncio.sleep(0.01)

            async def all_delivered() -> bool:
                return len(ledger.all()) == len(ids)

            await eventually(all_delivered, 20, "200 events delivered")
            await asyncio.sleep(0.3)  # time for any (wrong) second delivery to show up
    finally:
        await second.close()

    assert ledger.violations == []
    assert ledger.all() == collections.Counter(ids)
    assert all(r.delivered_at is not None for r in await outbox_rows(pair.producer))


# --- failures and backoff -----------------------------------------------------------------


async def db_now(db: Database) -> datetime:
    async with db.connection() as conn:
        found: datetime = await conn.fetch_val("SELECT clock_timestamp()")
    return found


async def test_a_failing_delivery_is_retried_with_backoff_until_the_consumer_recovers(
    pair: Pair,
) -> None:
    [event_id] = await produce(pair.producer)
    relay = OutboxRelay(pair.producer, pair.consumer.deliver)
    pair.consumer.down = True

    assert await relay.run_once() == 0
    now = await db_now(pair.producer)
    [first] = await outbox_rows(pair.producer)
    assert first.attempts == 1
    assert first.delivered_at is None
    assert first.last_error == "ConnectionError: consumer unavailable"
    assert timedelta(seconds=0.25) < first.next_attempt_at - now <= timedelta(seconds=1)

    assert await relay.run_once() == 0  # not due yet: the consumer is left alone
    assert pair.consumer.seen == [event_id]

    async def attempted_again() -> bool:
        await relay.run_once()
        return len(pair.consumer.seen) == 2

    await eventually(attempted_again, 5, "the second attempt")
    now = await db_now(pair.producer)
    [second] = await outbox_rows(pair.producer)
    assert second.attempts == 2
    assert second.next_attempt_at > first.next_attempt_at
    assert timedelta(seconds=1.25) < second.next_attempt_at - now <= timedelta(seconds=2)  # doubled

    pair.consumer.down = False

    async def delivered() -> bool:
        return await relay.run_once() == 1

    await eventually(delivered, 5, "delivery after recovery")
    [done] = await outbox_rows(pair.producer)
    assert done.delivered_at is not None
    assert done.attempts == 3
    assert pair.consumer.seen == [event_id] * 3
    assert await pair.consumer.applied() == [(event_id, "relay")]


async def test_backoff_is_capped(pair: Pair) -> None:
    await produce(pair.producer)
    async with pair.producer.connection() as conn:
        await conn.execute("UPDATE outbox SET attempts = 30")
    pair.consumer.down = True
    relay = OutboxRelay(pair.producer, pair.consumer.deliver, max_backoff_s=5)
    assert await relay.run_once() == 0
    now = await db_now(pair.producer)
    [row] = await outbox_rows(pair.producer)
    assert row.attempts == 31
    assert timedelta(seconds=3) < row.next_attempt_at - now <= timedelta(seconds=5)


async def test_one_failing_event_does_not_hold_back_the_others(pair: Pair) -> None:
    ids = await produce(pair.producer, 12)
    poisoned = ids[1]
    delivered: list[str] = []

    async def deliver(event: EventEnvelope) -> None:
        if event.id == poisoned:
            raise ValueError("consumer rejects this one")
        delivered.append(event.id)

    # batch=5, poll_s=30: the first batch has a failure and is not full of successes; the
    # relay must still go on draining now, not 30 s later.
    relay = OutboxRelay(pair.producer, deliver, batch=5, poll_s=30)
    async with relay.running():

        async def rest_delivered() -> bool:
            return len(delivered) == 11

        await eventually(rest_delivered, 5, "every other event")
    assert sorted(delivered) == sorted(i for i in ids if i != poisoned)


async def test_an_event_the_consumer_rejects_for_good_is_set_aside_not_retried(
    pair: Pair,
) -> None:
    ids = await produce(pair.producer, 3)
    calls: list[str] = []

    async def deliver(event: EventEnvelope) -> None:
        calls.append(event.id)
        if event.id == ids[0]:
            raise EventRejectedError("noti answered 400: unknown type")

    relay = OutboxRelay(pair.producer, deliver)
    assert await relay.run_once() == 2
    assert await relay.run_once() == 0  # nothing left: the rejected one is not due again
    assert calls == ids
    async with pair.producer.connection() as conn:
        cur = await conn.raw.execute(
            "SELECT delivered_at IS NOT NULL, attempts, last_error FROM outbox WHERE event_id = %s",
            (ids[0],),
        )
        assert await cur.fetchone() == (True, 1, "rejected: noti answered 400: unknown type")


# --- run_forever --------------------------------------------------------------------------


async def test_run_forever_is_woken_by_notify(pair: Pair) -> None:
    relay = OutboxRelay(pair.producer, pair.consumer.deliver, poll_s=30)
    async with relay.running():
        [first] = await produce(pair.producer)

        async def got(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return len(await pair.consumer.applied()) == count

            return check

        await eventually(await got(1), 5, "the first event")
        await asyncio.sleep(0.2)  # the relay is now waiting: only NOTIFY wakes it within 30 s

        later = await produce(pair.producer, 3)  # three transactions, three NOTIFYs
        await eventually(await got(4), 5, "events committed while the relay waited")
        await asyncio.sleep(0.2)
        later += await produce(pair.producer, 5, per_tx=5)  # one transaction, five events
        await eventually(await got(9), 5, "a batch committed in one transaction")

    assert [e for e, _ in await pair.consumer.applied()] == [first, *later]


async def test_run_forever_survives_its_connections_being_killed(pair: Pair) -> None:
    relay = OutboxRelay(pair.producer, pair.consumer.deliver, poll_s=0.2)
    async with relay.running():
        await produce(pair.producer)

        async def applied(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return len(await pair.consumer.applied()) == count

            return check

        await eventually(await applied(1), 5, "the first event")
        async with await psycopg.AsyncConnection.connect(
            pair.producer.url, autocommit=True
        ) as admin:
            cur = await admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            row = await cur.fetchone()
            assert row is not None
            assert row[0] >= 2  # the listener and the pool's connection(s)
        await produce(pair.producer, 2)
        await eventually(await applied(3), 10, "events after the connections were killed")


async def test_prune_removes_only_old_delivered_events(pair: Pair) -> None:
    old, recent, pending = await produce(pair.producer, 3)
    async with pair.producer.connection() as conn:
        await conn.execute(
            "UPDATE outbox SET delivered_at = now() - interval '2 days' WHERE event_id = %s", (old,)
        )
        await conn.execute("UPDATE outbox SET delivered_at = now() WHERE event_id = %s", (recent,))
    relay = OutboxRelay(pair.producer, pair.consumer.deliver, retention_s=86_400)
    assert await relay.prune() == 1
    assert [r.event_id for r in await outbox_rows(pair.producer)] == [recent, pending]


async def test_a_hung_delivery_times_out_and_is_retried_later(pair: Pair) -> None:
    await produce(pair.producer)

    async def hang(event: EventEnvelope) -> None:
        await asyncio.sleep(3600)

    relay = OutboxRelay(pair.producer, hang, deliver_timeout_s=0.2)
    assert await relay.run_once() == 0
    [row] = await outbox_rows(pair.producer)
    assert row.attempts == 1
    assert row.delivered_at is None
    assert "TimeoutError" in (row.last_error or "")


# --- batches in flight, leases and marking ------------------------------------------------


@dataclass
class Gate:
    """A batch deliverer (``many``) that holds every batch until ``open`` is set, and
    records how many batches it had at once and what the relay said meanwhile."""

    relay: OutboxRelay | None = None
    registry: CollectorRegistry | None = None
    open: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0
    most_held: int = 0
    batches: list[list[str]] = field(default_factory=list)
    seen_in_flight: list[int] = field(default_factory=list)
    seen_gauge: list[float | None] = field(default_factory=list)

    async def __call__(self, event: EventEnvelope) -> None:
        raise AssertionError("a deliverer with many gets whole batches")

    async def many(self, events: list[EventEnvelope]) -> list[Exception | None]:
        self.batches.append([e.id for e in events])
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        if self.relay is not None:
            self.seen_in_flight.append(self.relay.in_flight)
        if self.registry is not None:
            self.seen_gauge.append(self.registry.get_sample_value("probe_outbox_batches_in_flight"))
        try:
            await self.open.wait()
        finally:
            self.held -= 1
        return [None] * len(events)


async def due_count(db: Database) -> int:
    async with db.connection() as conn:
        found: int = await conn.fetch_val(
            "SELECT count(*) FROM outbox"
            " WHERE delivered_at IS NULL AND next_attempt_at <= statement_timestamp()"
        )
    return found


async def test_drain_keeps_up_to_max_in_flight_batches_on_their_way(pair: Pair) -> None:
    ids = await produce(pair.producer, 23, per_tx=23)
    registry = CollectorRegistry()
    gate = Gate(registry=registry)
    relay = OutboxRelay(
        pair.producer,
        gate,
        batch=5,
        max_in_flight=3,
        metrics=RelayMetrics.of(registry, "probe"),
    )
    gate.relay = relay
    draining = asyncio.create_task(relay.drain())
    try:

        async def three_held() -> bool:
            return gate.held == 3

        await eventually(three_held, 5, "three batches in flight")
        assert relay.in_flight == 3
        assert registry.get_sample_value("probe_outbox_batches_in_flight") == 3
        # At its bound the relay claims no fourth batch: those rows are still due.
        await asyncio.sleep(0.2)
        assert not draining.done()
        assert len(gate.batches) == 3
        assert await due_count(pair.producer) == 23 - 15

        gate.open.set()
        await asyncio.wait_for(draining, 10)

        async def none_in_flight() -> bool:
            return relay.in_flight == 0

        await eventually(none_in_flight, 5, "the last batches marked")
    finally:
        gate.open.set()
        draining.cancel()

    assert gate.most_held == 3
    assert max(gate.seen_in_flight) <= 3
    assert max(v or 0 for v in gate.seen_gauge) <= 3
    assert registry.get_sample_value("probe_outbox_batches_in_flight") == 0
    assert [len(b) for b in gate.batches[:4]] == [5, 5, 5, 5]
    delivered = collections.Counter(i for b in gate.batches for i in b)
    assert delivered == collections.Counter(ids)  # every event, once
    assert all(
        r.delivered_at is not None and r.attempts == 1 for r in await outbox_rows(pair.producer)
    )


async def test_a_cancelled_relay_hands_its_leased_rows_back(pair: Pair) -> None:
    ids = await produce(pair.producer, 4, per_tx=4)
    gate = Gate()  # never opened: the batch is in flight when the relay stops
    relay = OutboxRelay(pair.producer, gate, poll_s=30)
    async with relay.running():

        async def in_flight() -> bool:
            return gate.held == 1

        await eventually(in_flight, 5, "the batch in flight")
        assert relay.in_flight == 1
        assert await due_count(pair.producer) == 0  # leased (for deliver_timeout_s + 5 s)
    # Out of the block: the relay task was cancelled, and its batch with it.
    now = await db_now(pair.producer)
    rows = await outbox_rows(pair.producer)
    assert [(r.delivered_at, r.attempts, r.last_error) for r in rows] == [(None, 0, None)] * 4
    assert all(r.next_attempt_at <= now for r in rows)  # due again now, not after the lease
    assert relay.in_flight == 0

    second = await open_database("producer-b", pair.producer.url)  # another pod's relay
    try:
        assert await OutboxRelay(second, pair.consumer.deliver).run_once() == 4
    finally:
        await second.close()
    assert [e for e, _ in await pair.consumer.applied()] == ids


async def test_a_batch_of_mixed_outcomes_is_marked_in_one_statement(pair: Pair) -> None:
    delivered, rejected, failed, failing_again = await produce(pair.producer, 4, per_tx=4)
    async with pair.producer.connection() as conn:  # an earlier failure of two of them
        await conn.execute(
            "UPDATE outbox SET attempts = 2, last_error = 'earlier' WHERE event_id = ANY(%s)",
            ([delivered, failing_again],),
        )

    async def deliver(event: EventEnvelope) -> None:
        if event.id == rejected:
            raise EventRejectedError("noti answered 400: malformed")
        if event.id in (failed, failing_again):
            raise ConnectionError("consumer unavailable")

    relay = OutboxRelay(pair.producer, deliver, batch=10)
    before = pair.producer.calls
    assert await relay.run_once() == 1
    assert pair.producer.calls - before == 2  # one claim, one mark for the whole batch
    now = await db_now(pair.producer)
    rows = {r.event_id: r for r in await outbox_rows(pair.producer)}

    done = rows[delivered]
    assert (done.attempts, done.last_error) == (3, "earlier")  # why it was late, kept
    assert done.delivered_at is not None

    aside = rows[rejected]
    assert (aside.attempts, aside.last_error) == (1, "rejected: noti answered 400: malformed")
    assert aside.delivered_at is not None  # set aside: never due again

    for event_id, attempts, backoff in ((failed, 1, 1.0), (failing_again, 3, 4.0)):
        row = rows[event_id]
        assert (row.attempts, row.delivered_at) == (attempts, None)
        assert row.last_error == "ConnectionError: consumer unavailable"
        assert timedelta(seconds=backoff - 0.75) < row.next_attempt_at - now
        assert row.next_attempt_at - now <= timedelta(seconds=backoff)

    assert await relay.run_once() == 0  # nothing due: delivered, set aside, backing off


async def test_a_late_mark_does_not_overwrite_another_relays_delivery(pair: Pair) -> None:
    fails_late, succeeds_late = await produce(pair.producer, 2, per_tx=2)
    release = asyncio.Event()

    async def slow(event: EventEnvelope) -> None:
        await release.wait()
        if event.id == fails_late:
            raise ConnectionError("consumer unavailable")

    # The first relay's lease (0.3 s) runs out while it is still delivering.
    first = OutboxRelay(pair.producer, slow, lease_s=0.3)
    late = asyncio.create_task(first.run_once())
    second_db = await open_database("producer-b", pair.producer.url)
    try:
        second = OutboxRelay(second_db, pair.consumer.deliver)
        taken = 0

        async def taken_over() -> bool:
            nonlocal taken
            taken += await second.run_once()
            return taken == 2

        await eventually(taken_over, 10, "the second relay to deliver after the lease")
        marked = {r.event_id: r for r in await outbox_rows(pair.producer)}
        assert all(r.delivered_at is not None and r.attempts == 1 for r in marked.values())

        release.set()
        await asyncio.wait_for(late, 10)  # the first relay marks its (stale) outcomes now
    finally:
        release.set()
        late.cancel()
        await second_db.close()

    after = {r.event_id: r for r in await outbox_rows(pair.producer)}
    assert after == marked  # neither the failure nor the second delivered_at landed
    assert after[fails_late].last_error is None
    assert [e for e, _ in await pair.consumer.applied()] == [fails_late, succeeds_late]


async def test_relay_metrics_count_each_delivered_event_in_the_lag_histogram(
    pair: Pair,
) -> None:
    registry = CollectorRegistry()
    metrics = RelayMetrics.of(registry, "probe")
    assert RelayMetrics.of(registry, "probe") is metrics  # registered once per registry
    assert RelayMetrics.of(registry, "other") is not metrics
    assert RelayMetrics.of(CollectorRegistry(), "probe") is not metrics

    ids = await produce(pair.producer, 6, per_tx=3)
    await asyncio.sleep(0.3)  # every event waits at least this long before delivery

    async def deliver(event: EventEnvelope) -> None:
        if event.id == ids[2]:
            raise ConnectionError("consumer unavailable")

    relay = OutboxRelay(pair.producer, deliver, metrics=metrics)
    assert await relay.run_once() == 5

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(f"probe_outbox_delivery_lag_seconds_{name}", labels)

    assert sample("count") == 5  # delivered events only: the failed one is not counted
    assert sample("bucket", le="+Inf") == 5
    assert sample("bucket", le="0.25") == 0  # measured from the producer's commit
    assert (sample("sum") or 0) >= 5 * 0.3
    assert registry.get_sample_value("other_outbox_delivery_lag_seconds_count") == 0
