"""Request ids, access logs, security headers, CORS, health and metrics on every app."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.plugins.harness import TokenIssuer
from wealist.devstack.servers import free_port

PROBE = "tests.core.probe:ROUTES"


async def test_request_id_is_generated_or_honoured(app_client) -> None:
    async with app_client("user", routes=PROBE) as client:
        generated = (await client.get("/health/live")).headers["x-request-id"]
        assert len(generated) == 32
        assert (await client.get("/health/live", headers={"X-Request-ID": "abc-1"})).headers[
            "x-request-id"
        ] == "abc-1"
        # a hostile id (log injection, huge) is replaced, not echoed
        r = await client.get("/health/live", headers={"X-Request-ID": "x\r\ny" + "z" * 300})
        assert r.headers["x-request-id"] != "x\r\ny" and len(r.headers["x-request-id"]) == 32


async def test_security_headers(app_client) -> None:
    async with app_client("storage", routes=PROBE) as client:
        r = await client.get("/health/live")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


async def test_cors_allows_only_listed_origins(app_client) -> None:
    async with app_client("board", routes=PROBE, cors_origins=["https://app.example"]) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        ok = await client.options(
            "/probe/echo", headers={"Origin": "https://app.example", **preflight}
        )
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        assert ok.headers["access-control-allow-credentials"] == "true"
        evil = await client.options(
            "/probe/echo", headers={"Origin": "https://evil.example", **preflight}
        )
        assert evil.headers.get("access-control-allow-origin") not in ("https://evil.example", "*")
        simple = await client.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


def test_wildcard_origin_with_credentials_is_refused(environment) -> None:
    from dataclasses import replace

    from wealist.core.app import build_app
    from wealist.services import spec

    with pytest.raises(ValueError, match="WEALIST_CORS_ORIGINS"):
        build_app(
            replace(spec("user"), routes=PROBE),
            environment.settings("user", cors_origins=["*"]),
            configure_logs=False,
        )


@pytest.mark.parametrize("prefix", ["", "/api"])
async def test_health_ready_reports_database_and_redis(app_client, prefix: str) -> None:
    async with app_client("user", routes=PROBE) as client:
        r = await client.get(f"{prefix}/health/ready")
        assert r.status_code == 200
        assert r.json() == {
            "status": "ready",
            "checks": {"database": "ok", "redis": "ok", "databases": {"user_db": "ok"}},
            "service": "user-service",
        }
        assert (await client.get(f"{prefix}/health")).json()["status"] == "ready"
        assert (await client.get(f"{prefix}/health/live")).json() == {"status": "alive"}


async def test_health_ready_is_503_when_redis_is_down(app_client) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with app_client("chat", routes=PROBE, redis_url=dead) as client:
        r = await client.get("/api/chats/health/ready")
    assert r.status_code == 503
    assert r.json()["status"] == "not_ready"
    assert r.json()["checks"]["redis"] == "disconnected"
    assert r.json()["checks"]["database"] == "ok"


async def test_metrics_use_route_templates_and_contract_names(
    app_client, issuer: TokenIssuer
) -> None:
    async with app_client("board", routes=PROBE) as client:
        await client.get("/probe/error/not-found")
        await client.get("/probe/error/forbidden")
        await client.get("/probe/me", headers={"Authorization": f"Bearer {issuer.token()}"})
        await client.get("/definitely/not/a/route/123")
        text = (await client.get("/metrics")).text
    series = "board_service_http_requests_total"
    assert f'{series}{{endpoint="/probe/error/{{kind}}",method="GET",status="404"}} 1.0' in text
    assert f'{series}{{endpoint="/probe/error/{{kind}}",method="GET",status="403"}} 1.0' in text
    assert (
        'board_service_http_requests_total{endpoint="unmatched",method="GET",status="404"} 1.0'
        in text
    )
    assert "board_service_http_request_duration_seconds_bucket" in text
    assert "/definitely/not" not in text
    for gauge in ("open", "in_use", "idle", "max"):
        assert f"board_service_db_connections_{gauge} " in text


async def test_db_round_trips_are_counted_per_request(app_client) -> None:
    async with app_client("noti", routes=PROBE) as client:
        r = await client.get("/probe/db")
    assert r.json() == {"sum": 3}


@pytest.mark.slow
async def test_access_log_is_json_with_route_and_never_holds_secrets(
    service_process, issuer: TokenIssuer
) -> None:
    proc = await service_process("board", routes=PROBE, env={"WEALIST_LOG_LEVEL": "info"})
    token = issuer.token()
    async with httpx.AsyncClient(base_url=proc.url) as client:
        await client.get(
            "/probe/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "trace-77"}
        )
        await client.get(f"/probe/me?token={token}&password=hunter2")
        await client.get("/probe/error/crash")
    proc.stop()
    logs = proc.logs()
    assert token not in logs and "hunter2" not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "http.request_completed"]
    first = next(line for line in access if line.get("request_id") == "trace-77")
    assert first["route"] == "/probe/me"
    assert first["status"] == 200
    assert first["method"] == "GET"
    assert isinstance(first["duration_ms"], float)
    assert first["user_id"]
    assert first["service"] == "board"
    assert any(line["status"] == 500 and line["level"] == "error" for line in access)
    crash = [line for line in lines if line.get("event") == "http.unhandled_error"]
    assert crash and "RuntimeError" in crash[0].get("exception", "")


async def test_internal_routes_require_the_internal_key(app_client) -> None:
    from tests.plugins.harness import INTERNAL_KEY

    async with app_client("noti", routes=PROBE) as client:
        assert (await client.get("/api/internal/probe")).status_code == 401
        wrong = await client.get("/api/internal/probe", headers={"X-Internal-Api-Key": "nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
        ok = await client.get(
            "/api/internal/probe",
            headers={"X-Internal-Api-Key": INTERNAL_KEY, "X-Calling-Service": "board"},
        )
        assert ok.status_code == 200
        assert ok.json() == {"caller": "board"}
    async with app_client("noti", routes=PROBE, internal_api_key="") as client:
        r = await client.get("/api/internal/probe", headers={"X-Internal-Api-Key": ""})
        assert r.status_code == 403  # no key configured: the internal API is closed
