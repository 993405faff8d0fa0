"""Monitoring summaries computed with PromQL (contract 10: overview, per-service rates,
latency percentiles, error rates, SLOs and burn rates, cluster health).

Each route runs a fixed handful of grouped queries concurrently, whatever the number of
services. Units are the original's: rates per second, latencies in milliseconds,
percentages 0-100. A service without traffic reports zeros (and 100 % availability).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

from wealist.core.context import ServiceContext
from wealist.core.errors import NotFound
from wealist.ops.actions.common import ops_settings
from wealist.ops.prometheus import Prometheus, PrometheusNotConfigured, Sample
from wealist.ops.promql import (
    ANY_ERRORS,
    CLIENT_ERRORS,
    NODE_CPU_BUSY,
    NODE_CPU_CORES,
    NODE_MEMORY_GB,
    NODE_MEMORY_USED,
    NODES,
    SERVER_ERRORS,
    SUCCESSES,
    Promql,
)
from wealist.ops.schemas import (
    ClusterMetrics,
    ErrorOverview,
    ErrorTrendPoint,
    RecentError,
    ServiceBurnRate,
    ServiceErrorSummary,
    ServiceMetricsOut,
    ServiceSLO,
    SLOOverview,
    SystemOverview,
)

__all__ = (
    "burn_rates",
    "cluster",
    "error_overview",
    "error_trend",
    "errors_by_service",
    "overview",
    "recent_errors",
    "service_detail",
    "service_metrics",
    "slo_overview",
)

FAST_BURN = 14.4  # spends 2 % of a 30-day budget in an hour (Google SRE workbook)
SLOW_BURN = 6.0  # spends 5 % in six hours
AT_RISK_BUDGET = 20.0  # percent of the error budget left
TREND_SPAN = timedelta(hours=1)
TREND_STEP_S = 300
RECENT_MAX = 500


class _Monitor:
    def __init__(self, ctx: ServiceContext) -> None:
        settings = ops_settings(ctx)
        if not settings.prometheus_url:
            raise PrometheusNotConfigured
        self.settings = settings
        self.services = list(settings.monitored_services)
        self.prom = Prometheus(
            ctx.runtime.http, settings.prometheus_url, settings.prometheus_timeout_s
        )
        self.q = Promql(self.services, settings.rate_window)

    async def scalar(self, promql: str) -> float:
        """The single value of an aggregate, 0 when there is none."""
        found = await self.prom.vector(promql)
        return (found[0].value or 0.0) if found else 0.0

    async def by_service(self, promql: str) -> dict[str, float | None]:
        return {s.labels.get("service", ""): s.value for s in await self.prom.vector(promql)}


def display_name(service: str) -> str:
    return f"{service}-service"


def _value(found: dict[str, float | None], service: str, scale: float = 1.0) -> float:
    value = found.get(service)
    return 0.0 if value is None else value * scale


async def _gather(*queries: Awaitable[dict[str, float | None]]) -> list[dict[str, float | None]]:
    return list(await asyncio.gather(*queries))


# --- metrics ----------------------------------------------------------------------------


async def overview(ctx: ServiceContext) -> SystemOverview:
    m = _Monitor(ctx)
    total, mean_s, errors, active, endpoints = await asyncio.gather(
        m.scalar(m.q.total_increase()),
        m.scalar(m.q.mean_latency()),
        m.scalar(m.q.ratio(SERVER_ERRORS, by="")),
        m.scalar(m.q.active_services()),
        m.scalar(m.q.endpoints()),
    )
    return SystemOverview(
        total_requests=round(total, 3),
        avg_response_time=round(mean_s * 1000, 3),
        error_percentage=round(errors * 100, 4),
        active_services=int(active),
        total_endpoints=int(endpoints),
    )


async def service_metrics(ctx: ServiceContext) -> list[ServiceMetricsOut]:
    m = _Monitor(ctx)
    rates, errors, successes, p50, p95, p99 = await _gather(
        m.by_service(m.q.rate_by_service()),
        m.by_service(m.q.ratio(SERVER_ERRORS)),
        m.by_service(m.q.ratio(SUCCESSES)),
        m.by_service(m.q.quantile_by_service(0.5)),
        m.by_service(m.q.quantile_by_service(0.95)),
        m.by_service(m.q.quantile_by_service(0.99)),
    )
    return [
        ServiceMetricsOut(
            service_name=display_name(s),
            request_rate=round(_value(rates, s), 4),
            error_rate=round(_value(errors, s, 100), 4),
            avg_latency=round(_value(p50, s, 1000), 3),
            p95_latency=round(_value(p95, s, 1000), 3),
            p99_latency=round(_value(p99, s, 1000), 3),
            # No traffic: nothing failed. Traffic without a 2xx/3xx answer: 0 %.
            success_rate=round(_value(successes, s, 100), 4) if _value(rates, s) else 100.0,
        )
        for s in m.services
    ]


async def service_detail(ctx: ServiceContext, name: str) -> ServiceMetricsOut:
    """One service's numbers; ``board`` and ``board-service`` both name it."""
    wanted = display_name(name.removesuffix("-service"))
    for found in await service_metrics(ctx):
        if found.service_name == wanted:
            return found
    raise NotFound(f"Service not found: {name[:100]}")


async def cluster(ctx: ServiceContext) -> ClusterMetrics:
    """Instances from Prometheus' ``up`` of the service jobs; machine numbers only when a
    node exporter is scraped too (0 otherwise)."""
    m = _Monitor(ctx)
    pods, healthy, nodes, cpu, cores, memory, memory_gb = await asyncio.gather(
        m.scalar(m.q.targets()),
        m.scalar(m.q.targets("1")),
        m.scalar(NODES),
        m.scalar(NODE_CPU_BUSY),
        m.scalar(NODE_CPU_CORES),
        m.scalar(NODE_MEMORY_USED),
        m.scalar(NODE_MEMORY_GB),
    )
    return ClusterMetrics(
        node_count=int(nodes),
        pod_count=int(pods),
        cpu_usage=round(cpu, 2),
        memory_usage=round(memory, 2),
        total_cpu_cores=cores,
        total_memory_gb=round(memory_gb, 2),
        healthy_pods=int(healthy),
        unhealthy_pods=int(pods - healthy),
    )


# --- errors -----------------------------------------------------------------------------


async def error_overview(ctx: ServiceContext) -> ErrorOverview:
    m = _Monitor(ctx)
    total, ratio, per_service = await asyncio.gather(
        m.scalar(m.q.total_increase(ANY_ERRORS)),
        m.scalar(m.q.ratio(SERVER_ERRORS, by="")),
        m.by_service(m.q.increase_by("service", SERVER_ERRORS)),
    )
    worst = max(per_service.items(), key=lambda item: item[1] or 0.0, default=("", None))
    has_worst = (worst[1] or 0.0) > 0
    return ErrorOverview(
        total_errors=round(total, 3),
        error_rate=round(ratio * 100, 4),
        most_error_service=display_name(worst[0]) if has_worst else "",
        most_error_count=round(worst[1] or 0.0, 3) if has_worst else 0.0,
    )


async def recent_errors(ctx: ServiceContext, limit: int) -> list[RecentError]:
    """The routes that answered 5xx most in the last hour, most first."""
    m = _Monitor(ctx)
    grouped = m.q.increase_by("service, endpoint, status", SERVER_ERRORS)
    found: list[Sample] = await m.prom.vector(f"topk({limit}, {grouped} > 0)")
    now = int(time.time())
    rows = [
        RecentError(
            service_name=display_name(s.labels.get("service", "")),
            request_path=s.labels.get("endpoint", ""),
            response_code=s.labels.get("status", ""),
            error_count=round(s.value or 0.0, 3),
            timestamp=now,
        )
        for s in found
    ]
    return sorted(rows, key=lambda r: r.error_count, reverse=True)


async def error_trend(ctx: ServiceContext) -> list[ErrorTrendPoint]:
    """The last hour in 5-minute steps: the 5xx share and how many 5xx answers."""
    m = _Monitor(ctx)
    end = datetime.now(UTC)
    start = end - TREND_SPAN
    window = f"{TREND_STEP_S}s"
    ratio_q = m.q.ratio(SERVER_ERRORS, window=window, by="")
    count_q = m.q.total_increase(SERVER_ERRORS, window=window)
    ratios, counts = await asyncio.gather(
        m.prom.matrix(ratio_q, start, end, TREND_STEP_S),
        m.prom.matrix(count_q, start, end, TREND_STEP_S),
    )
    by_time: dict[int, list[float]] = {}
    for series in ratios:
        for ts, value in series.points:
            by_time.setdefault(ts, [0.0, 0.0])[0] = (value or 0.0) * 100
    for series in counts:
        for ts, value in series.points:
            by_time.setdefault(ts, [0.0, 0.0])[1] = value or 0.0
    return [
        ErrorTrendPoint(timestamp=ts, error_rate=round(v[0], 4), error_count=round(v[1], 3))
        for ts, v in sorted(by_time.items())
    ]


async def errors_by_service(ctx: ServiceContext) -> list[ServiceErrorSummary]:
    m = _Monitor(ctx)
    server, client, total = await _gather(
        m.by_service(m.q.increase_by("service", SERVER_ERRORS)),
        m.by_service(m.q.increase_by("service", CLIENT_ERRORS)),
        m.by_service(m.q.increase_by("service")),
    )
    rows = []
    for s in m.services:
        five, four, all_ = _value(server, s), _value(client, s), _value(total, s)
        rows.append(
            ServiceErrorSummary(
                service_name=display_name(s),
                total_errors=round(five + four, 3),
                error_rate=round((five + four) / all_ * 100, 4) if all_ > 0 else 0.0,
                error5xx_count=round(five, 3),
                error4xx_count=round(four, 3),
            )
        )
    return rows


# --- SLOs -------------------------------------------------------------------------------


async def slo_overview(ctx: ServiceContext) -> SLOOverview:
    """Availability (non-5xx share over the SLO window) and latency against the targets."""
    m = _Monitor(ctx)
    target = m.settings.slo_availability
    budget = 100.0 - target
    errors, p50, p99 = await _gather(
        m.by_service(m.q.ratio(SERVER_ERRORS, window=m.settings.slo_window)),
        m.by_service(m.q.quantile_by_service(0.5)),
        m.by_service(m.q.quantile_by_service(0.99)),
    )
    services = []
    for s in m.services:
        availability = 100.0 - _value(errors, s, 100)
        consumed = (100.0 - availability) / budget * 100
        latency_p99 = _value(p99, s, 1000)
        services.append(
            ServiceSLO(
                service_name=display_name(s),
                availability=round(availability, 4),
                availability_target=target,
                availability_met=availability >= target,
                latency_p50=round(_value(p50, s, 1000), 3),
                latency_p99=round(latency_p99, 3),
                latency_target=m.settings.slo_latency_p99_ms,
                latency_met=latency_p99 <= m.settings.slo_latency_p99_ms,
                error_budget_remaining=round(max(0.0, 100.0 - consumed), 4),
                error_budget_consumed=round(consumed, 4),
            )
        )
    at_risk = sum(
        1 for s in services if s.error_budget_remaining < AT_RISK_BUDGET or not s.latency_met
    )
    if at_risk == 0:
        health = "healthy"
    elif at_risk <= len(services) // 3:
        health = "degraded"
    else:
        health = "critical"
    return SLOOverview(
        services=services,
        overall_health=health,
        services_at_risk=at_risk,
        total_services=len(services),
    )


async def burn_rates(ctx: ServiceContext) -> list[ServiceBurnRate]:
    """How fast each service spends its error budget: the 5xx share over a window divided
    by the share the SLO allows (1 = exactly on budget)."""
    m = _Monitor(ctx)
    allowed = (100.0 - m.settings.slo_availability) / 100.0
    short, hour, six, day = await _gather(
        *(m.by_service(m.q.ratio(SERVER_ERRORS, window=w)) for w in ("5m", "1h", "6h", "1d"))
    )
    rows = []
    for s in m.services:
        r5m, r1h, r6h, r24h = (_value(found, s) / allowed for found in (short, hour, six, day))
        rows.append(
            ServiceBurnRate(
                service_name=display_name(s),
                rate5m=round(r5m, 4),
                rate1h=round(r1h, 4),
                rate6h=round(r6h, 4),
                rate24h=round(r24h, 4),
                alerting=(r1h > FAST_BURN and r5m > FAST_BURN) or r6h > SLOW_BURN,
            )
        )
    return rows
