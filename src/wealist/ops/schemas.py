"""Wire structs of the ops service: request bodies and the ``{success, message?, data?}``
replies the ops portal reads (contract 10; field names are the original's).

Additive: ``ipAddress``/``userAgent`` on audit entries, ``isActive``/``createdAt``/
``updatedBy`` on configs, ``invitedBy``/``boundUserId`` on portal users, ``rate5m`` on
burn rates, ``requestId`` on log entries.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = (
    "AppConfigOut",
    "AuditLogOut",
    "CallbackOut",
    "ClusterMetrics",
    "CreateConfig",
    "Done",
    "ErrorOverview",
    "ErrorTrendPoint",
    "InviteUser",
    "LogEntry",
    "LogQueryResult",
    "LogService",
    "Ok",
    "Page",
    "PortalUserOut",
    "RecentError",
    "Role",
    "SLOOverview",
    "ServiceBurnRate",
    "ServiceErrorSummary",
    "ServiceMetricsOut",
    "ServiceSLO",
    "SystemOverview",
    "UpdateConfig",
    "UpdateRole",
)

T = TypeVar("T")

Role = Literal["admin", "pm", "viewer"]
CONFIG_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,255}$"

Email = Annotated[str, Meta(pattern=_EMAIL, max_length=320)]
ConfigKey = Annotated[str, Meta(pattern=CONFIG_KEY.pattern)]
ConfigValue = Annotated[str, Meta(max_length=65_536)]
Description = Annotated[str, Meta(max_length=1000)]


class Ok(msgspec.Struct, Generic[T], frozen=True):
    """``{success: true, data}``."""

    data: T
    success: bool = True


class Done(msgspec.Struct, frozen=True):
    """``{success: true, message}``: replies that only say what happened."""

    message: str
    success: bool = True


class Page(msgspec.Struct, Generic[T], frozen=True):
    """``{success, data, page, limit, total}``: the audit log's pages."""

    data: list[T]
    page: int
    limit: int
    total: int
    success: bool = True


# --- portal users -----------------------------------------------------------------------


class PortalUserOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    email: str
    name: str
    picture: str
    role: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    invited_by: UUID | None = None
    bound_user_id: UUID | None = None  # the wealist account that signs in as this user


class CallbackOut(msgspec.Struct, rename="camel", frozen=True):
    user: PortalUserOut
    is_new: bool


class InviteUser(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    email: Email
    role: Role


class UpdateRole(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    role: Role


# --- audit log --------------------------------------------------------------------------


class AuditLogOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    user_id: UUID
    user_email: str
    action: str
    resource_type: str
    resource_id: str
    details: str
    ip_address: str
    user_agent: str
    created_at: datetime


# --- app config -------------------------------------------------------------------------


class AppConfigOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: UUID
    key: str
    value: str
    description: str
    is_active: bool
    updated_at: datetime
    created_at: datetime
    updated_by: UUID


class CreateConfig(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    key: ConfigKey
    value: ConfigValue
    description: Description = ""


class UpdateConfig(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    value: ConfigValue
    description: Description | None = None  # None: keep the current one
    is_active: bool | None = None


# --- monitoring (numbers from Prometheus; rates per second, latencies in ms, % 0-100) ---


class SystemOverview(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    total_requests: float  # in the last hour
    avg_response_time: float  # median latency, ms
    error_percentage: float
    active_services: int
    total_endpoints: int


class ServiceMetricsOut(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    service_name: str
    request_rate: float
    error_rate: float
    avg_latency: float
    p95_latency: float
    p99_latency: float
    success_rate: float
    active_requests: int = 0  # not measured: Granian does not export in-flight requests


class ClusterMetrics(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    node_count: int
    pod_count: int  # scraped service instances
    cpu_usage: float
    memory_usage: float
    total_cpu_cores: float
    total_memory_gb: float
    healthy_pods: int
    unhealthy_pods: int


class ErrorOverview(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    total_errors: float
    error_rate: float
    most_error_service: str
    most_error_count: float


class RecentError(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    service_name: str
    request_path: str  # the route template, never a raw path
    response_code: str
    error_count: float
    timestamp: int


class ErrorTrendPoint(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    timestamp: int
    error_rate: float
    error_count: float


class ServiceErrorSummary(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    service_name: str
    total_errors: float
    error_rate: float
    error5xx_count: float
    error4xx_count: float


class ServiceSLO(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    service_name: str
    availability: float
    availability_target: float
    availability_met: bool
    latency_p50: float
    latency_p99: float
    latency_target: float
    latency_met: bool
    error_budget_remaining: float
    error_budget_consumed: float


class SLOOverview(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    services: list[ServiceSLO]
    overall_health: str  # healthy | degraded | critical
    services_at_risk: int
    total_services: int


class ServiceBurnRate(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    service_name: str
    rate5m: float
    rate1h: float
    rate6h: float
    rate24h: float
    alerting: bool


# --- logs -------------------------------------------------------------------------------


class LogEntry(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    timestamp: datetime
    service: str
    level: str
    message: str
    trace_id: str = ""
    span_id: str = ""
    request_id: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class LogQueryResult(msgspec.Struct, rename="camel", frozen=True):
    entries: list[LogEntry]
    total_count: int


class LogService(msgspec.Struct, frozen=True):
    name: str
