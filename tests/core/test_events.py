"""Cross-service events over HTTP: the relay's delivery posts each event to every consumer
with the internal key; the receiving route applies each event id once."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msgspec
import pytest

from tests.core import events_probe
from tests.plugins.harness import INTERNAL_KEY
from wealist.contracts.events import CONSUMERS, NOTIFICATION_REQUESTED, EventEnvelope
from wealist.core.events import DeliveryError, HttpDelivery
from wealist.core.internal import InternalClient
from wealist.core.outbox import EventRejectedError
from wealist.core.settings import CoreSettings


class Consumer:
    """A real HTTP server standing in for a consuming service."""

    def __init__(self) -> None:
        self.status = 200
        self.batch_status: int | None = None  # what an array of events gets, when not status
        self.seen: list[tuple[str, str | None, str | None, dict[str, Any]]] = []
        consumer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                consumer.seen.append(
                    (
                        self.path,
                        self.headers.get("x-internal-api-key"),
                        self.headers.get("x-calling-service"),
                        json.loads(body),
                    )
                )
                events = json.loads(body)
                if isinstance(events, list):  # a batch: one ack each, in order
                    status = consumer.batch_status or consumer.status
                    reply = json.dumps({"results": [{"applied": True} for _ in events]})
                else:
                    status, reply = consumer.status, "{}"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def consumer() -> Iterator[Consumer]:
    found = Consumer()
    yield found
    found.server.shutdown()
    found.server.server_close()


def event(kind: str, **payload: Any) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        type=kind,
        occurred_at="2026-11-29T10:00:00+00:00",
        payload=msgspec.Raw(msgspec.json.encode(payload)),
    )


async def test_an_event_is_posted_to_its_consumer_with_the_internal_key(consumer: Consumer) -> None:
    settings = CoreSettings(service_urls={"noti": consumer.url + "/"}, internal_api_key="k-1")
    async with httpx.AsyncClient() as http:
        deliver = HttpDelivery(InternalClient(http, "k-1"), settings, "board")
        sent = event(NOTIFICATION_REQUESTED, type="BOARD_ASSIGNED")
        await deliver(sent)
        await deliver(event("nobody.listens"))  # no consumer: nothing sent, not an error
        consumer.status = 503
        with pytest.raises(DeliveryError, match="noti answered 503"):
            await deliver(event(NOTIFICATION_REQUESTED))
        consumer.status = 404  # not deployed yet: retried
        with pytest.raises(DeliveryError, match="noti answered 404"):
            await deliver(event(NOTIFICATION_REQUESTED))
        consumer.status = 400  # malformed for the consumer: set aside, never retried
        with pytest.raises(EventRejectedError, match="noti answered 400"):
            await deliver(event(NOTIFICATION_REQUESTED))
    assert CONSUMERS[NOTIFICATION_REQUESTED] == ("noti",)
    path, key, caller, body = consumer.seen[0]
    assert (path, key, caller) == ("/api/internal/events/noti", "k-1", "board")
    assert body == {
        "id": sent.id,
        "type": NOTIFICATION_REQUESTED,
        "occurred_at": sent.occurred_at,
        "payload": {"type": "BOARD_ASSIGNED"},
    }
    assert len(consumer.seen) == 4


def test_service_urls_default_to_each_services_port() -> None:
    settings = CoreSettings(user_service_url="http://users:1")
    assert settings.service_url("noti") == "http://127.0.0.1:8002"
    assert settings.service_url("user") == "http://users:1"
    assert CoreSettings(service_urls={"noti": "http://n:9/"}).service_url("noti") == "http://n:9"


async def test_the_receiving_route_applies_each_event_once(app_client: Callable[..., Any]) -> None:
    key = {"x-internal-api-key": INTERNAL_KEY}
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        first = event("probe.recorded")
        body = msgspec.json.encode(first)
        for expected in (True, False, False):
            answer = await client.post("/api/internal/events/board", content=body, headers=key)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"applied": expected}
        assert events_probe.APPLIED.count(first.id) == 1

        other = msgspec.json.encode(event("probe.unknown"))
        answer = await client.post("/api/internal/events/board", content=other, headers=key)
        assert answer.json() == {"applied": False}

        # A failing handler leaves the id unclaimed: the relay's retry applies it later.
        failing = msgspec.json.encode(event("probe.exploding"))
        assert (
            await client.post("/api/internal/events/board", content=failing, headers=key)
        ).status_code == 500
        assert (
            await client.post("/api/internal/events/board", content=failing, headers=key)
        ).status_code == 500

        assert (await client.post("/api/internal/events/board", content=body)).status_code == 401
        bad = json.dumps({**json.loads(body), "id": "not-a-uuid"}).encode()
        assert (
            await client.post("/api/internal/events/board", content=bad, headers=key)
        ).status_code == 400


async def test_a_batch_is_one_post_per_consumer_in_order(consumer: Consumer) -> None:
    settings = CoreSettings(service_urls={"noti": consumer.url}, internal_api_key="k-1")
    batch = [event(NOTIFICATION_REQUESTED, n=n) for n in range(5)]
    batch.insert(2, event("nobody.listens"))
    async with httpx.AsyncClient() as http:
        deliver = HttpDelivery(InternalClient(http, "k-1"), settings, "board")
        assert await deliver.many(batch) == [None] * 6
        [(path, _, _, body)] = consumer.seen
        assert path == "/api/internal/events/noti"
        assert [e["payload"]["n"] for e in body] == [0, 1, 2, 3, 4]  # outbox order

        # A consumer that takes single events only (400 to an array) gets them one by one.
        consumer.seen.clear()
        consumer.batch_status = 400
        consumer.status = 200
        assert await deliver.many(batch) == [None] * 6
        assert [type(b).__name__ for *_, b in consumer.seen] == ["list"] + ["dict"] * 5

        consumer.seen.clear()
        consumer.batch_status = 503  # down: every event of the batch is retried
        outcomes = await deliver.many(batch)
        assert [type(o).__name__ for o in outcomes] == ["DeliveryError"] * 2 + ["NoneType"] + [
            "DeliveryError"
        ] * 3


async def test_a_batch_applies_each_event_alone(app_client: Callable[..., Any]) -> None:
    key = {"x-internal-api-key": INTERNAL_KEY}
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        first, second = event("probe.recorded"), event("probe.recorded")
        late = event("probe.failing_late")
        batch = [
            first,
            event("probe.exploding"),
            event("probe.refused"),
            late,
            first,  # the same id twice in one batch: applied once
            second,
            event("probe.unknown"),
        ]
        answer = await client.post(
            "/api/internal/events/board", content=msgspec.json.encode(batch), headers=key
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "results": [
                {"applied": True},
                {"applied": False, "failed": "RuntimeError"},
                {"applied": False, "rejected": "400 this event can never apply"},
                {"applied": False, "failed": "RuntimeError"},
                {"applied": False},
                {"applied": True},
                {"applied": False},
            ]
        }
        assert events_probe.APPLIED.count(first.id) == 1
        assert events_probe.APPLIED.count(second.id) == 1
        assert late.id not in events_probe.APPLIED  # its savepoint took its side effect along
        # the failed ones were not claimed: a retry tries them again
        retry = await client.post(
            "/api/internal/events/board", content=msgspec.json.encode([late, first]), headers=key
        )
        assert retry.json() == {
            "results": [{"applied": False, "failed": "RuntimeError"}, {"applied": False}]
        }


# --- batch handlers ---------------------------------------------------------------------

BOARD_EVENTS = "/api/internal/events/board"


def batched(**payload: Any) -> EventEnvelope:
    return event("probe.batched", **payload)


async def post_batch(client: Any, batch: list[EventEnvelope]) -> tuple[list[dict[str, Any]], int]:
    """The acks of one batch post, and the database round trips it took."""
    database = client.app.state["contexts"]["board"].database
    before = database.calls
    answer = await client.post(
        BOARD_EVENTS,
        content=msgspec.json.encode(batch),
        headers={"x-internal-api-key": INTERNAL_KEY},
    )
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    return results, int(database.calls - before)


def batches_of(*ids: str) -> list[list[str]]:
    """The committed apply_many calls that applied any of ``ids``."""
    wanted = set(ids)
    return [call for call in events_probe.BATCHES if wanted.intersection(call)]


async def test_a_batch_handlers_runs_are_claimed_and_applied_at_once_in_order(
    app_client: Callable[..., Any],
) -> None:
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        first, b1, b2, b3, second, b4, b5 = (
            event("probe.recorded"),
            batched(),
            batched(),
            batched(),
            event("probe.recorded"),
            batched(),
            batched(),
        )
        unknown = event("probe.unknown")
        batch = [first, b1, b2, b3, second, b4, unknown, b5]
        acks, round_trips = await post_batch(client, batch)
        assert acks == [{"applied": True}] * 6 + [{"applied": False}, {"applied": True}]
        ids = [e.id for e in (first, b1, b2, b3, second, b4, b5)]
        assert [events_probe.APPLIED.count(i) for i in ids] == [1] * 7
        # Each run of consecutive batched events is one apply_many call, in outbox order.
        assert batches_of(b1.id, b2.id, b3.id, b4.id, b5.id) == [
            [b1.id, b2.id, b3.id],
            [b4.id],
            [b5.id],
        ]
        # A single: claim + apply (2 each); a run: one claim of all its ids + one apply
        # (2 each, however long); an unknown type: nothing. Event by event the first run
        # alone would take 6.
        assert round_trips == 2 + 2 + 2 + 2 + 0 + 2

        # The single-event post of a batched type applies it alone.
        alone = batched()
        answer = await client.post(
            BOARD_EVENTS,
            content=msgspec.json.encode(alone),
            headers={"x-internal-api-key": INTERNAL_KEY},
        )
        assert answer.json() == {"applied": True}
        assert batches_of(alone.id) == [[alone.id]]


async def test_the_same_event_twice_in_one_batch_is_applied_once(
    app_client: Callable[..., Any],
) -> None:
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        b1, b2 = batched(), batched()
        # The same id spelled otherwise (upper case, no hyphens) is the same event.
        respelled = msgspec.structs.replace(b1, id=uuid.UUID(b1.id).hex.upper())
        acks, _ = await post_batch(client, [b1, b1, b2, respelled])
        assert acks == [
            {"applied": True},
            {"applied": False},
            {"applied": True},
            {"applied": False},
        ]
        assert events_probe.APPLIED.count(b1.id) == 1
        assert events_probe.APPLIED.count(respelled.id) == 0
        assert batches_of(b1.id, b2.id) == [[b1.id, b2.id]]


async def test_an_event_a_batch_handler_cannot_parse_is_refused_alone(
    app_client: Callable[..., Any],
) -> None:
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        b1, bad, b2 = batched(), batched(refuse=True), batched()
        acks, round_trips = await post_batch(client, [b1, bad, b2])
        assert acks == [
            {"applied": True},
            {"applied": False, "rejected": "400 this batched event can never apply"},
            {"applied": True},
        ]
        assert batches_of(b1.id, bad.id, b2.id) == [[b1.id, b2.id]]
        assert bad.id not in events_probe.APPLIED
        assert round_trips == 2  # the others still one claim and one apply
        # Refused before its claim: a later post of it is refused again, not "applied before".
        again, _ = await post_batch(client, [bad])
        assert again == [{"applied": False, "rejected": "400 this batched event can never apply"}]


async def test_a_failing_batch_apply_is_redone_event_by_event(
    app_client: Callable[..., Any],
) -> None:
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        b1, boom, b2, refused, b3 = (
            batched(),
            batched(explode=True),
            batched(),
            batched(refuse_late=True),
            batched(),
        )
        acks, _ = await post_batch(client, [b1, boom, b2, refused, b3])
        assert acks == [
            {"applied": True},
            {"applied": False, "failed": "RuntimeError"},
            {"applied": True},
            {"applied": False, "rejected": "400 one event of the batch can never apply"},
            {"applied": True},
        ]
        # The failed run call left no side effect; each good event applied once, alone.
        assert batches_of(b1.id, boom.id, b2.id, refused.id, b3.id) == [[b1.id], [b2.id], [b3.id]]
        assert [events_probe.APPLIED.count(e.id) for e in (b1, boom, b2, refused, b3)] == [
            1,
            0,
            1,
            0,
            1,
        ]
        # Neither faulty one was claimed: a retry tries them again; the good ones are done.
        retry, _ = await post_batch(client, [b1, boom, refused])
        assert retry == [
            {"applied": False},
            {"applied": False, "failed": "RuntimeError"},
            {"applied": False, "rejected": "400 one event of the batch can never apply"},
        ]


async def test_a_redelivered_batch_applies_nothing(app_client: Callable[..., Any]) -> None:
    async with app_client("board", routes="tests.core.events_probe:ROUTES") as client:
        batch = [batched(), batched(), event("probe.recorded"), batched(), batched()]
        first, _ = await post_batch(client, batch)
        assert first == [{"applied": True}] * 5
        applied = list(events_probe.APPLIED)
        calls = list(events_probe.BATCHES)

        again, round_trips = await post_batch(client, batch)
        assert again == [{"applied": False}] * 5
        assert applied == events_probe.APPLIED
        assert calls == events_probe.BATCHES  # no apply_many call for ids all seen before
        assert round_trips == 3  # a claim per run and one for the single: nothing applied
