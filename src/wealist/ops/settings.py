"""Settings of the ops service (``WEALIST_OPS_<FIELD>``, else ``WEALIST_<FIELD>``).

``admin_emails``: the portal's first admins. Such an address becomes an admin the first
time it signs in, if no portal user has it yet; after that, admins manage roles in the
portal (a later demotion sticks). Nobody becomes admin by signing in first.

``base_path``: where the routes are mounted. The default is the gateway path the ops
portal calls (``/api/ops/api/...``), so the service shares one process with the user and
auth services (``wealist serve all``) without shadowing their ``/api/users/me`` and
``/api/auth/logout``; ``/api`` gives the original's service paths for a gateway that
strips ``/api/ops`` (the Istio VirtualService of contract 1.1).

Monitoring reads a Prometheus HTTP API (``prometheus_url``) that scrapes the services
with ``deploy/monitoring/prometheus.yml`` (its relabelling adds the ``service`` label the
queries group by); logs come from Loki's HTTP API (``loki_url``). Without a URL those
routes answer 503 with ``PROMETHEUS_NOT_CONFIGURED`` / ``LOKI_NOT_CONFIGURED``.
"""

from __future__ import annotations

import re

import msgspec

from wealist.contracts.addresses import DEFAULT_PORTS
from wealist.core.settings import CoreSettings

__all__ = ("OpsSettings",)

_BASE_PATH = re.compile(r"^(/[a-z0-9_-]+)+$")
_LOKI_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DURATION = re.compile(r"^[1-9][0-9]{0,4}[smhdw]$")


class OpsSettings(CoreSettings, frozen=True, kw_only=True):
    admin_emails: list[str] = msgspec.field(default_factory=list)
    base_path: str = "/api/ops/api"
    # The client IP written to the audit log comes from X-Real-IP only when the request
    # arrives from one of these (the gateway); otherwise it is the peer address.
    trusted_proxies: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1", "::1"])

    prometheus_url: str = ""
    prometheus_timeout_s: float = 5.0
    monitored_services: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_PORTS))
    slo_availability: float = 99.9  # percent of non-5xx requests
    slo_latency_p99_ms: float = 500.0
    slo_latency_p50_ms: float = 100.0
    slo_window: str = "30d"  # availability and error budget are measured over this
    rate_window: str = "5m"  # request rates, error ratios and latency percentiles

    loki_url: str = ""
    loki_timeout_s: float = 5.0
    loki_service_label: str = "service"  # the stream label naming the service (Promtail's)
    loki_selector: str = ""  # extra stream matchers, e.g. namespace="wealist"

    def __post_init__(self) -> None:
        if not _BASE_PATH.match(self.base_path):
            raise ValueError("base_path must look like /api or /api/ops/api")
        unknown = set(self.monitored_services) - set(DEFAULT_PORTS)
        if unknown:
            raise ValueError(f"monitored_services: unknown services {sorted(unknown)}")
        if not 0 < self.slo_availability < 100:
            raise ValueError("slo_availability must be between 0 and 100 (exclusive)")
        if self.slo_latency_p99_ms <= 0 or self.slo_latency_p50_ms <= 0:
            raise ValueError("SLO latency targets must be positive")
        for name in ("slo_window", "rate_window"):
            if not _DURATION.match(getattr(self, name)):
                raise ValueError(f"{name} must be a Prometheus duration such as 5m or 30d")
        if not _LOKI_LABEL.match(self.loki_service_label):
            raise ValueError("loki_service_label must be a Loki label name")
        for address in self.admin_emails:
            if "@" not in address:
                raise ValueError(f"admin_emails: {address!r} is not an email address")

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(address.strip().lower() for address in self.admin_emails)
