"""Every service renders errors in its own contract envelope (contract section 2.2)."""

from __future__ import annotations

from typing import Any

import pytest

from wealist.services import SERVICES

PROBE = "tests.core.probe:ROUTES"


def error_of(service: str, body: dict[str, Any]) -> tuple[str, str]:
    """(code, message) read the way the frontend reads each service's envelope."""
    body = {k: v for k, v in body.items() if k != "details"}  # additive: validation details
    if service == "auth":
        assert set(body) == {"code", "message", "requestId"}
        return body["code"], body["message"]
    if service == "ops":
        assert body["success"] is False
        assert set(body) == {"success", "message", "code", "requestId"}
        return body["code"], body["message"]
    if service in ("chat", "noti", "video"):
        assert body["success"] is False
        assert set(body) == {"success", "error", "requestId"}
    else:
        assert set(body) == {"error", "requestId"}
    assert set(body["error"]) == {"code", "message"}
    return body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize("service", list(SERVICES))
async def test_errors_use_the_service_envelope(app_client, service: str) -> None:
    async with app_client(service, routes=PROBE) as client:
        r = await client.get("/probe/error/not-found", headers={"X-Request-ID": "req-123"})
        assert r.status_code == 404
        assert error_of(service, r.json()) == ("NOT_FOUND", "No such thing")
        assert r.json()["requestId"] == "req-123" == r.headers["x-request-id"]

        r = await client.get("/probe/error/conflict")
        assert r.status_code == 409
        assert error_of(service, r.json()) == ("ALREADY_EXISTS", "Already there")

        r = await client.get("/probe/error/forbidden")
        assert r.status_code == 403
        assert error_of(service, r.json()) == ("FORBIDDEN", "Forbidden")


@pytest.mark.parametrize("service", ["board", "chat", "auth", "ops"])
async def test_unknown_errors_become_500_without_internal_text(app_client, service: str) -> None:
    async with app_client(service, routes=PROBE) as client:
        r = await client.get("/probe/error/crash")
    assert r.status_code == 500
    assert error_of(service, r.json()) == ("INTERNAL_ERROR", "Internal server error")
    assert "10.1.2.3" not in r.text and "internal detail" not in r.text


@pytest.mark.parametrize("service", ["board", "chat", "user"])
async def test_invalid_body_is_a_400_validation_error(app_client, service: str) -> None:
    async with app_client(service, routes=PROBE) as client:
        for bad in (b'{"name": ""}', b'{"name": "ok", "extra": 1}', b'{"name": 5}', b"not json"):
            r = await client.post(
                "/probe/echo", content=bad, headers={"Content-Type": "application/json"}
            )
            assert r.status_code == 400, (bad, r.text)
            code, message = error_of(service, r.json())
            assert code == "VALIDATION_ERROR"
            assert message
        r = await client.post("/probe/echo", json={"name": "ok", "count": 2})
        assert r.status_code == 201
        assert r.json() == {"name": "ok", "count": 2}


async def test_unknown_route_and_wrong_method_use_the_envelope(app_client) -> None:
    async with app_client("chat", routes=PROBE) as client:
        r = await client.get("/no/such/route")
        assert r.status_code == 404
        assert error_of("chat", r.json())[0] == "NOT_FOUND"
        r = await client.delete("/probe/echo")
        assert r.status_code == 405
        assert error_of("chat", r.json())[0] == "METHOD_NOT_ALLOWED"


async def test_body_over_the_limit_is_413(app_client) -> None:
    async with app_client("board", routes=PROBE, max_body_bytes=1024) as client:
        r = await client.post(
            "/probe/echo",
            content=b'{"name":"' + b"x" * 4096 + b'"}',
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 413
    assert error_of("board", r.json())[0] == "PAYLOAD_TOO_LARGE"
