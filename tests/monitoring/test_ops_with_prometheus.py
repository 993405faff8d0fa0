"""The ops monitoring routes against a real Prometheus (deploy/monitoring/prometheus.yml
and its rules) scraping real ``wealist serve`` processes: the numbers the portal shows
are the traffic this test made."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.ops.support import BASE, actor, new_email
from tests.plugins.harness import TokenIssuer
from tests.plugins.prometheus import PrometheusServer
from tests.user.support import sign_up

pytestmark = pytest.mark.slow

USER_CALLS = 40
OPS_CALLS = 30
FAILED_CALLS = 6  # /monitoring/logs without Loki: 503 LOKI_NOT_CONFIGURED
LOGS_ROUTE = f"{BASE}/monitoring/logs"
USER_ME_SERIES = 'sum(user_service_http_requests_total{service="user",endpoint="/api/users/me"})'


async def scraped(prom: PrometheusServer, promql: str, at_least: float) -> None:
    """Wait until Prometheus shows what the test did (rate() needs two scrapes of it)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(prom.query, promql)
        if found and float(found[0]["value"][1]) >= at_least:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"Prometheus never saw {promql} >= {at_least}\n{prom.logs()[-2000:]}")


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["serviceName"]: row for row in rows}


async def test_monitoring_numbers_come_from_prometheus(
    service_process: Callable[..., Any],
    prometheus: Callable[[dict[str, list[int]]], PrometheusServer],
    issuer: TokenIssuer,
) -> None:
    admin_email = new_email("monitor")
    users = await service_process("user")
    prom = prometheus({"user": [users.port]})
    ops = await service_process(
        "ops",
        env={"WEALIST_OPS_ADMIN_EMAILS": admin_email, "WEALIST_OPS_PROMETHEUS_URL": prom.url},
    )
    prom.set_targets("ops", [ops.port])
    admin = actor(issuer, "admin", admin_email)

    await scraped(prom, 'count(up{job=~"wealist-(user|ops)"} == 1)', 2)
    user_client = httpx.AsyncClient(base_url=users.url, timeout=30)
    client = httpx.AsyncClient(base_url=ops.url, timeout=30)
    async with user_client, client:
        me = await sign_up(user_client, issuer, "watched")
        # Two halves with a scrape of each service in between: a series first scraped
        # after all of its traffic would show no increase, hence no rate (and its service
        # would not count as active).
        for half in (1, 2):
            for _ in range(USER_CALLS // 2):
                answer = await user_client.get("/api/users/me", headers=me.headers)
                assert answer.status_code == 200
            for _ in range(OPS_CALLS // 2):
                assert (await client.get(f"{BASE}/config/active")).status_code == 200
            for _ in range(FAILED_CALLS // 2):
                failed = await client.get(LOGS_ROUTE, headers=admin.headers)
                assert failed.status_code == 503 and failed.json()["code"] == "LOKI_NOT_CONFIGURED"
            await scraped(
                prom,
                'sum(ops_service_http_requests_total{service="ops",status="503"})',
                half * FAILED_CALLS // 2,
            )
            await scraped(prom, USER_ME_SERIES, half * USER_CALLS // 2)
        await scraped(prom, "sum(service:http_errors5xx:rate5m)", 1e-9)  # the recording rules

        async def get(path: str) -> Any:
            answer = await client.get(f"{BASE}/monitoring/{path}", headers=admin.headers)
            assert answer.status_code == 200, (path, answer.text)
            body = answer.json()
            assert body["success"] is True
            return body["data"]

        # A scrape that times out on a loaded machine reads as "down" until the next one:
        # both services count as active within a few scrapes.
        for _ in range(20):
            overview = await get("metrics/overview")
            if overview["activeServices"] == 2:
                break
            await asyncio.sleep(0.5)
        assert overview["activeServices"] == 2
        # increase() extrapolates from a few scrapes of young series: no exact count, but
        # the order of magnitude of what this test sent (the monitoring calls count too)
        assert 0 < overview["totalRequests"] < 10 * (USER_CALLS + OPS_CALLS + FAILED_CALLS)
        assert 0 < overview["errorPercentage"] < 100
        assert overview["avgResponseTime"] > 0
        assert overview["totalEndpoints"] >= 3  # /api/users/me, config/active, logs

        services = by_name(await get("metrics/services"))
        assert set(services) == {
            f"{s}-service"
            for s in ("auth", "user", "board", "chat", "noti", "storage", "video", "ops")
        }
        user, ops_row = services["user-service"], services["ops-service"]
        assert user["requestRate"] > 0 and user["errorRate"] == 0 and user["successRate"] == 100
        assert user["avgLatency"] > 0  # the median, as the original computed it
        assert 0 < user["p95Latency"] <= user["p99Latency"] <= 10_000
        assert ops_row["errorRate"] > 0 and ops_row["successRate"] < 100
        assert services["board-service"]["requestRate"] == 0  # not running: zeros
        for name in ("ops", "ops-service"):
            detail = await get(f"metrics/services/{name}")
            assert detail["serviceName"] == "ops-service" and detail["errorRate"] > 0

        errors = await get("errors/overview")
        assert errors["mostErrorService"] == "ops-service"
        assert errors["mostErrorCount"] > 0  # increase() extrapolates: no exact counts
        assert errors["totalErrors"] >= 0.9 * errors["mostErrorCount"]
        recent = await get("errors/recent?limit=5")
        assert recent and recent[0]["serviceName"] == "ops-service"
        assert recent[0]["requestPath"] == LOGS_ROUTE and recent[0]["responseCode"] == "503"
        by_service = by_name(await get("errors/by-service"))
        assert by_service["ops-service"]["error5xxCount"] > 0
        assert by_service["user-service"]["totalErrors"] == 0
        trend = await get("errors/trend")
        assert trend and all(set(p) == {"timestamp", "errorRate", "errorCount"} for p in trend)
        assert max(p["errorRate"] for p in trend) > 0

        slo = await get("slo/overview")
        slos = by_name(slo["services"])
        assert slos["user-service"]["availability"] == 100
        assert slos["user-service"]["availabilityMet"] is True
        assert slos["ops-service"]["availability"] < 99.9
        assert slos["ops-service"]["availabilityMet"] is False
        assert slos["ops-service"]["errorBudgetRemaining"] == 0
        assert slo["overallHealth"] in {"degraded", "critical"} and slo["servicesAtRisk"] >= 1
        burns = by_name(await get("slo/burn-rates"))
        assert burns["ops-service"]["rate5m"] > 14.4 and burns["user-service"]["rate5m"] == 0

        cluster = await get("metrics/cluster")
        assert (cluster["podCount"], cluster["healthyPods"], cluster["unhealthyPods"]) == (2, 2, 0)
