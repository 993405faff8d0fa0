"""End to end through the real gateway: REST in both routing styles, a WebSocket and an SSE
stream, internal routes and metrics refused from outside, body limits at the edge, per-IP
limits, request ids, security headers, and no token in nginx's access log."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets

from tests.core.test_errors import error_of
from tests.gateway.conftest import Stack
from tests.noti.support import event_body
from tests.plugins.harness import INTERNAL_KEY, TokenIssuer
from tests.user.support import KEY, sign_up

pytestmark = pytest.mark.slow

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def assert_edge_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], (name, response.headers)
    assert response.headers["server"] == "nginx"  # no version
    assert len(response.headers.get_list("x-request-id")) == 1


async def test_rest_through_both_routing_styles(stack: Stack, issuer: TokenIssuer) -> None:
    async with httpx.AsyncClient(base_url=stack.processes["user"].url) as direct:
        me = await sign_up(direct, issuer, "gw")
    async with httpx.AsyncClient(base_url=stack.url) as client:
        for path in ("/api/users/me", "/api/svc/user/api/users/me"):
            response = await client.get(path, headers=me.headers)
            assert response.status_code == 200, (path, response.text)
            assert response.json()["userId"] == me.user_id
            assert_edge_headers(response)
        for path in ("/api/ops/api/config/active", "/api/svc/ops/api/config/active"):
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)
            assert response.json()["success"] is True
        # the dev mapping's rewrites: /api/storage/api/* -> storage /api/*
        for path in (
            "/api/storage/api/storage/files/" + str(uuid.uuid4()),
            "/api/svc/storage/api/storage/files/" + str(uuid.uuid4()),
        ):
            response = await client.get(path)
            assert response.status_code == 401, (path, response.text)  # storage's own answer
            assert response.json()["error"]["code"] == "UNAUTHORIZED"
        # a service's own errors pass through untouched (nginx never rewrites them)
        refused = await client.get("/api/users/not-a-uuid", headers=me.headers)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
        assert refused.headers["x-request-id"] == refused.json()["requestId"]


async def test_request_ids_reach_the_service_and_come_back(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as client:
        mine = await client.get("/api/ops/api/config/active", headers={"X-Request-ID": "trace-42"})
        assert mine.headers["x-request-id"] == "trace-42"
        hostile = await client.get(
            "/api/ops/api/config/active", headers={"X-Request-ID": 'bad id"<>'}
        )
        made = hostile.headers["x-request-id"]
        assert made != 'bad id"<>' and len(made) == 32
        # nginx's own answers carry one too, in the body as well
        refused = await client.get("/api/internal/users/1/exists")
        assert refused.json()["requestId"] == refused.headers["x-request-id"]


@pytest.mark.parametrize(
    ("path", "envelope"),
    [
        ("/api/internal/users/00000000-0000-0000-0000-000000000000/exists", "user"),
        ("/api/svc/user/api/internal/users/00000000-0000-0000-0000-000000000000/exists", "user"),
        ("/api/internal/notifications", "user"),
        ("/api/svc/noti/api/internal/notifications", "noti"),
        ("/api/internal/events/noti", "user"),
        ("/api/INTERNAL/notifications", "user"),
        ("/api/%69nternal/notifications", "user"),
        ("/api/users/../internal/notifications", "user"),
        ("/api/svc/ops/api/internal/x", "ops"),
        ("/metrics", "user"),
        ("/api/svc/noti/metrics", "noti"),
        ("/api/svc/user/metrics/", "user"),
        ("/api/svc/chat/api/chats/metrics", "chat"),
        ("/api/chats/internal/x", "chat"),
        ("/api/auth/internal/x", "auth"),
    ],
)
async def test_internal_routes_and_metrics_are_not_reachable(
    stack: Stack, path: str, envelope: str
) -> None:
    """404 from the edge, in the envelope of the service the path names (the plain one
    where it names none)."""
    async with httpx.AsyncClient(base_url=stack.url) as client:
        for method in ("GET", "POST"):
            response = await client.request(
                method, path, headers={"x-internal-api-key": INTERNAL_KEY}, json={}
            )
            assert response.status_code == 404, (method, path, response.text)
            assert error_of(envelope, response.json())[0] == "NOT_FOUND"
            assert "_service_http_requests_total" not in response.text
            assert_edge_headers(response)


# a route of every service in both routing styles (closed upstreams too: the edge decides)
BODY_ROUTES = {
    "auth": ("/api/auth/login", "/api/svc/auth/api/auth/login"),
    "user": ("/api/workspaces/create", "/api/svc/user/api/workspaces/create"),
    "board": ("/api/boards/api/projects", "/api/svc/board/api/projects"),
    "chat": ("/api/chats", "/api/svc/chat/api/chats"),
    "noti": ("/api/notifications/read-all", "/api/svc/noti/api/notifications/read-all"),
    "storage": ("/api/storage/folders", "/api/svc/storage/api/storage/folders"),
    "video": ("/api/video/rooms", "/api/svc/video/api/video/rooms"),
    "ops": ("/api/ops/api/admin/config", "/api/svc/ops/api/admin/config"),
}


async def test_oversized_bodies_are_413_in_each_services_envelope_every_time(
    stack: Stack,
) -> None:
    """The edge's limit is each service's own (1 MiB): a body over it never reaches the
    service, so the answer is always nginx's 413, in the envelope of the path's service.
    (When storage routes let 100 MB through to a service that takes 1 MiB, the service
    refused mid-body and nginx, still sending, answered 503 about half the time.)"""
    too_big = b"x" * (1024 * 1024 + 1)
    ten_mb = b"x" * (10 << 20)
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        for service, paths in BODY_ROUTES.items():
            for path in paths:
                for body in (too_big, ten_mb, ten_mb, ten_mb, ten_mb):
                    response = await client.post(
                        path, content=body, headers={"Content-Type": "application/json"}
                    )
                    assert response.status_code == 413, (path, len(body), response.text)
                    code, _ = error_of(service, response.json())
                    assert code == "PAYLOAD_TOO_LARGE", (path, response.text)
                    assert response.json()["requestId"] == response.headers["x-request-id"]

        async def chunks() -> Any:  # no Content-Length: nginx counts what arrives
            for _ in range(20):
                yield b"y" * 65_536

        chunked = await client.post("/api/storage/folders", content=chunks())
        assert chunked.status_code == 413
        # at the limit the body reaches the service, which judges it (here: not JSON)
        at_limit = await client.post(
            "/api/storage/folders",
            content=b"z" * (1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
        assert at_limit.status_code in (400, 401), at_limit.text  # storage's own answer
        # file bodies go to /api/blobs (signed URLs): up to 100 MB reaches the service,
        # which refuses an unsigned PUT itself
        # (the refusal comes before the body is read: the service reads the rest first, or
        # nginx, still sending, saw a reset and answered 503 about half the time)
        for path in ("/api/blobs/storage/x", "/api/svc/storage/api/blobs/storage/x") * 5:
            upload = await client.put(path, content=b"f" * (4 << 20))
            assert upload.status_code == 404, (path, upload.text)  # no blob store here
        over = await client.put("/api/blobs/storage/x", content=b"f" * (101 << 20))
        assert over.status_code == 413


async def test_a_websocket_through_both_styles(stack: Stack, issuer: TokenIssuer) -> None:
    token = issuer.token(str(uuid.uuid4()))
    for path in ("/api/chats/ws/presence", "/api/svc/chat/api/chats/ws/presence"):
        async with websockets.connect(f"{stack.ws_url}{path}?token={token}") as socket:
            await socket.send(json.dumps({"type": "ping"}))
            while True:  # presence may send its snapshot first
                frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if frame.get("type") == "pong":
                    break
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(f"{stack.ws_url}/api/chats/ws/presence?token=forged"):
            pass
    assert refused.value.response.status_code == 403


async def _sse_events(response: httpx.Response, wanted: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "event" in current:
                events.append(current)
                if len(events) == wanted:
                    return events
            current = {}
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        current[key] = value.strip()
    return events


async def test_an_sse_stream_arrives_unbuffered_through_both_styles(
    stack: Stack, issuer: TokenIssuer
) -> None:
    user, workspace = str(uuid.uuid4()), str(uuid.uuid4())
    token = issuer.token(user)
    noti = stack.processes["noti"].url
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        for path in ("/api/notifications/stream", "/api/svc/noti/api/notifications/stream"):
            async with client.stream("GET", path, params={"token": token}) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                reader = asyncio.ensure_future(_sse_events(response, 2))
                await asyncio.sleep(0.5)  # the stream is open and subscribed
                body = event_body(user, workspace)
                async with httpx.AsyncClient(base_url=noti) as internal:
                    made = await internal.post(
                        "/api/internal/notifications", json=body, headers=KEY
                    )
                    assert made.status_code == 201, made.text
                events = await asyncio.wait_for(reader, 15)
                assert [e["event"] for e in events] == ["connected", "notification"]
                assert json.loads(events[1]["data"])["id"] == made.json()["id"]


async def test_per_ip_request_limit(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        answers = await asyncio.gather(
            *(client.get("/api/ops/api/config/active") for _ in range(400))
        )
    codes = {r.status_code for r in answers}
    assert codes == {200, 429}, codes
    limited = next(r for r in answers if r.status_code == 429)
    assert limited.json()["error"] == "Too Many Requests"


async def test_the_access_log_holds_no_token(stack: Stack, issuer: TokenIssuer) -> None:
    token = issuer.token(str(uuid.uuid4()))
    async with httpx.AsyncClient(base_url=stack.url) as client:
        await client.get("/api/notifications/stream", params={"token": "x" + token[1:]})
        await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    await asyncio.sleep(0.2)
    log = stack.gateway.access_log.read_text()
    assert "/api/notifications/stream" in log
    assert token[20:60] not in log and "token=" not in log
    for line in log.splitlines():
        entry = json.loads(line)
        assert "?" not in entry["path"]
