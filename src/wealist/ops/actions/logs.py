"""Logs through Loki: the entries of a service, level and text over a time range.

Nothing the caller sends reaches LogQL unchecked: the service and level come from
allow-lists, and the search text becomes a regular expression with every special
character escaped, inside a raw string it cannot leave.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from wealist.core.context import ServiceContext
from wealist.core.errors import ValidationFailed
from wealist.ops.actions.common import ops_settings
from wealist.ops.loki import Loki, LokiNotConfigured, parse_line
from wealist.ops.schemas import LogQueryResult, LogService

__all__ = ("LEVELS", "LogFilter", "list_services", "query_logs")

LEVELS = {
    "debug": "debug",
    "info": "info",
    "warn": "warn(ing)?",
    "warning": "warn(ing)?",
    "error": "error",
    "critical": "critical",
}
DEFAULT_SPAN = timedelta(hours=1)
MAX_SPAN = timedelta(days=30)
SEARCH_MAX = 200


class LogFilter:
    """The query parameters of ``GET /monitoring/logs``, checked."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        service: str | None,
        level: str | None,
        query: str | None,
        start: str | None,
        end: str | None,
    ) -> None:
        settings = ops_settings(ctx)
        name = (service or "").removesuffix("-service")
        if name and name not in settings.monitored_services:
            raise ValidationFailed(f"unknown service {service!r}")
        if level and level.lower() not in LEVELS:
            raise ValidationFailed(f"level must be one of {', '.join(LEVELS)}")
        if query and len(query) > SEARCH_MAX:
            raise ValidationFailed(f"query is longer than {SEARCH_MAX} characters")
        now = datetime.now(UTC)
        self.end = _instant(end, "end") or now
        self.start = _instant(start, "start") or self.end - DEFAULT_SPAN
        if self.start >= self.end:
            raise ValidationFailed("start must be before end")
        if self.end - self.start > MAX_SPAN:
            raise ValidationFailed("the time range is longer than 30 days")
        self.service = name
        self.level = level.lower() if level else ""
        self.text = query or ""

    def logql(self, service_label: str, selector: str) -> str:
        matchers = [m for m in (selector.strip(),) if m]
        if self.service:
            matchers.append(f'{service_label}="{self.service}"')
        else:
            matchers.append(f'{service_label}=~".+"')
        query = "{" + ", ".join(matchers) + "}"
        if self.text:
            pattern = "(?i)" + re.escape(self.text).replace("`", r"\x60")
            query += f" |~ `{pattern}`"
        if self.level:
            query += f' | json | level=~"(?i){LEVELS[self.level]}"'
        return query


def _instant(raw: str | None, field: str) -> datetime | None:
    """RFC 3339, or Unix seconds / milliseconds (the original accepted all three)."""
    if not raw:
        return None
    if raw.isdigit():
        number = int(raw)
        seconds = number / 1000 if number > 10**11 else number
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValidationFailed(f"{field} is out of range") from None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{field} is not an RFC 3339 time or a Unix time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _loki(ctx: ServiceContext) -> Loki:
    settings = ops_settings(ctx)
    if not settings.loki_url:
        raise LokiNotConfigured
    return Loki(ctx.runtime.http, settings.loki_url, settings.loki_timeout_s)


async def query_logs(ctx: ServiceContext, where: LogFilter, limit: int) -> LogQueryResult:
    loki = _loki(ctx)
    settings = ops_settings(ctx)
    logql = where.logql(settings.loki_service_label, settings.loki_selector)
    found = await loki.query_range(logql, where.start, where.end, limit)
    entries = [
        parse_line(ns, line, labels, settings.loki_service_label) for ns, line, labels in found
    ]
    return LogQueryResult(entries, len(entries))


async def list_services(ctx: ServiceContext) -> list[LogService]:
    """The services that logged in the last day."""
    loki = _loki(ctx)
    settings = ops_settings(ctx)
    end = datetime.now(UTC)
    names = await loki.label_values(settings.loki_service_label, end - timedelta(days=1), end)
    return [LogService(name) for name in names]
