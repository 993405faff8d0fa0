"""Monitoring and logs when their backends are missing or failing (a 503 that says why,
never invented numbers), and logs through Loki's HTTP API with LogQL nobody can inject
into. Real numbers from a real Prometheus: tests/monitoring/test_ops_with_prometheus.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.ops.fake_loki import FakeLoki, fake_loki  # noqa: F401  # the fixture
from tests.ops.support import BASE, Portal, assert_error, build_portal
from tests.plugins.harness import TokenIssuer
from wealist.devstack.servers import free_port

M = f"{BASE}/monitoring"


async def test_without_prometheus_or_loki_the_routes_say_so(ops: Any, portal: Portal) -> None:
    h = portal.viewer.headers
    for path in ("metrics/overview", "metrics/services", "errors/trend", "slo/burn-rates"):
        assert_error(await ops.get(f"{M}/{path}", headers=h), 503, "PROMETHEUS_NOT_CONFIGURED")
    for path in ("logs", "logs/services"):
        assert_error(await ops.get(f"{M}/{path}", headers=h), 503, "LOKI_NOT_CONFIGURED")


async def test_an_unreachable_prometheus_or_loki_is_a_503(
    app_client: Callable[..., Any], issuer: TokenIssuer, admin_email: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with app_client(
        "ops", admin_emails=[admin_email], prometheus_url=dead, loki_url=dead
    ) as ops:
        portal = await build_portal(ops, issuer, admin_email)
        answer = await ops.get(f"{M}/slo/overview", headers=portal.pm.headers)
        assert_error(answer, 503, "PROMETHEUS_UNAVAILABLE")
        assert_error(await ops.get(f"{M}/logs", headers=portal.pm.headers), 503, "LOKI_UNAVAILABLE")


async def test_logs_through_loki(
    app_client: Callable[..., Any],
    issuer: TokenIssuer,
    admin_email: str,
    fake_loki: FakeLoki,  # noqa: F811  # the fixture imported above
) -> None:
    line = json.dumps(
        {
            "event": "http.request_completed",
            "level": "error",
            "service": "board",
            "request_id": "r-1",
            "ts": "2026-01-01T00:00:00Z",
        }
    )
    fake_loki.streams = [
        {"stream": {"service": "board"}, "values": [["1767225600000000000", line]]},
        {
            "stream": {"service": "board", "level": "warn"},
            "values": [["1767225601000000000", "plain text"]],
        },
    ]
    async with app_client("ops", admin_emails=[admin_email], loki_url=fake_loki.url) as ops:
        portal = await build_portal(ops, issuer, admin_email)
        h = portal.viewer.headers
        found = await ops.get(
            f"{M}/logs",
            params={
                "service": "board-service",
                "level": "error",
                "query": 'x"} |= `y` (.*)',
                "start": "1767225500",
                "end": "1767229200",
                "limit": 10,
            },
            headers=h,
        )
        assert found.status_code == 200, found.text
        data = found.json()["data"]
        assert data["totalCount"] == 2
        newest, oldest = data["entries"]
        assert (newest["message"], newest["level"], newest["service"]) == (
            "plain text",
            "warn",
            "board",
        )
        assert (oldest["message"], oldest["level"], oldest["requestId"]) == (
            "http.request_completed",
            "error",
            "r-1",
        )
        sent = fake_loki.queries[-1]
        assert sent["path"] == "/loki/api/v1/query_range" and sent["limit"] == "10"
        assert sent["direction"] == "backward" and sent["start"] == "1767225500000000000"
        logql = sent["query"]
        assert logql.startswith('{service="board"} |~ `(?i)')
        assert logql.endswith(' | json | level=~"(?i)error"')
        assert logql.count("`") == 2  # the search text cannot close the raw string
        assert r'`(?i)x"\}\ \|=\ \x60y\x60\ \(\.\*\)`' in logql  # every special escaped

        services = await ops.get(f"{M}/logs/services", headers=h)
        assert services.json()["data"] == [{"name": "board"}, {"name": "chat"}]
        for bad in (
            {"service": "mysql"},
            {"level": "loud"},
            {"query": "q" * 201},
            {"start": "tomorrow"},
            {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            {"limit": 1001},
        ):
            assert_error(await ops.get(f"{M}/logs", params=bad, headers=h), 400, "VALIDATION_ERROR")
        fake_loki.status = 500
        assert_error(await ops.get(f"{M}/logs", headers=h), 503, "LOKI_UNAVAILABLE")
