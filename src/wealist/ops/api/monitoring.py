"""Monitoring for every portal role: numbers from Prometheus, logs from Loki."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath, QueryParameter

from wealist.core.deps import Ctx
from wealist.ops.actions import logs, monitoring
from wealist.ops.api.deps import ANY_ROLE, Me
from wealist.ops.schemas import (
    ClusterMetrics,
    ErrorOverview,
    ErrorTrendPoint,
    LogQueryResult,
    LogService,
    Ok,
    RecentError,
    ServiceBurnRate,
    ServiceErrorSummary,
    ServiceMetricsOut,
    SLOOverview,
    SystemOverview,
)

__all__ = ("ROUTES",)

BASE = "/monitoring"
Text = Annotated[str | None, QueryParameter(max_length=200)]


@get(f"{BASE}/metrics/overview", opt=ANY_ROLE)
async def overview(ctx: Ctx, me: Me) -> Ok[SystemOverview]:
    return Ok(await monitoring.overview(ctx))


@get(f"{BASE}/metrics/services", opt=ANY_ROLE)
async def services(ctx: Ctx, me: Me) -> Ok[list[ServiceMetricsOut]]:
    return Ok(await monitoring.service_metrics(ctx))


@get(f"{BASE}/metrics/services/{{service_name:str}}", opt=ANY_ROLE)
async def service(ctx: Ctx, me: Me, service_name: FromPath[str]) -> Ok[ServiceMetricsOut]:
    return Ok(await monitoring.service_detail(ctx, service_name))


@get(f"{BASE}/metrics/cluster", opt=ANY_ROLE)
async def cluster(ctx: Ctx, me: Me) -> Ok[ClusterMetrics]:
    return Ok(await monitoring.cluster(ctx))


@get(f"{BASE}/errors/overview", opt=ANY_ROLE)
async def error_overview(ctx: Ctx, me: Me) -> Ok[ErrorOverview]:
    return Ok(await monitoring.error_overview(ctx))


@get(f"{BASE}/errors/recent", opt=ANY_ROLE)
async def recent_errors(
    ctx: Ctx,
    me: Me,
    limit: Annotated[int, QueryParameter(ge=1, le=monitoring.RECENT_MAX)] = 50,
) -> Ok[list[RecentError]]:
    return Ok(await monitoring.recent_errors(ctx, limit))


@get(f"{BASE}/errors/trend", opt=ANY_ROLE)
async def error_trend(ctx: Ctx, me: Me) -> Ok[list[ErrorTrendPoint]]:
    return Ok(await monitoring.error_trend(ctx))


@get(f"{BASE}/errors/by-service", opt=ANY_ROLE)
async def errors_by_service(ctx: Ctx, me: Me) -> Ok[list[ServiceErrorSummary]]:
    return Ok(await monitoring.errors_by_service(ctx))


@get(f"{BASE}/slo/overview", opt=ANY_ROLE)
async def slo_overview(ctx: Ctx, me: Me) -> Ok[SLOOverview]:
    return Ok(await monitoring.slo_overview(ctx))


@get(f"{BASE}/slo/burn-rates", opt=ANY_ROLE)
async def burn_rates(ctx: Ctx, me: Me) -> Ok[list[ServiceBurnRate]]:
    return Ok(await monitoring.burn_rates(ctx))


@get(f"{BASE}/logs", opt=ANY_ROLE)
async def query_logs(  # the contract's query parameters, each optional
    ctx: Ctx,
    me: Me,
    *,
    service: Text = None,
    level: Text = None,
    text: Annotated[str | None, QueryParameter(name="query", max_length=200)] = None,
    start: Text = None,
    end: Text = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> Ok[LogQueryResult]:
    where = logs.LogFilter(ctx, service=service, level=level, query=text, start=start, end=end)
    return Ok(await logs.query_logs(ctx, where, limit))


@get(f"{BASE}/logs/services", opt=ANY_ROLE)
async def log_services(ctx: Ctx, me: Me) -> Ok[list[LogService]]:
    return Ok(await logs.list_services(ctx))


ROUTES = [
    overview,
    services,
    service,
    cluster,
    error_overview,
    recent_errors,
    error_trend,
    errors_by_service,
    slo_overview,
    burn_rates,
    query_logs,
    log_services,
]
