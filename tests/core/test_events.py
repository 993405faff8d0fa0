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
