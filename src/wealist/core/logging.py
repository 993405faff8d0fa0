"""structlog setup: JSON lines in production, console on a TTY, secrets never written.

Request context (``request_id``, ``route``, ``user_id``) is bound through contextvars by
the HTTP middleware, so every line logged while serving a request carries it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ("configure_logging", "get_logger", "redact")

# Keys whose values are secrets wherever they appear in a log event.
SECRET_KEYS = frozenset(
    {
        "token",
        "ticket",
        "access_token",
        "refresh_token",
        "accesstoken",
        "refreshtoken",
        "password",
        "secret",
        "authorization",
        "cookie",
        "set-cookie",
        "api_key",
        "internal_api_key",
        "x-internal-api-key",
        "client_secret",
        "private_key",
    }
)
REDACTED = "[redacted]"


def redact(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: blank out secret-looking keys, including one level down."""
    for key, value in list(event.items()):
        if key.lower() in SECRET_KEYS:
            event[key] = REDACTED
        elif isinstance(value, dict):
            event[key] = {
                k: REDACTED if str(k).lower() in SECRET_KEYS else v for k, v in value.items()
            }
    return event


def configure_logging(service: str, level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog and the stdlib root logger once per process."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        redact,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if use_console
        else structlog.processors.JSONRenderer(serializer=_dumps)
    )
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries that log through the stdlib go through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))


def _dumps(obj: Any, **_: Any) -> str:
    import orjson

    return orjson.dumps(obj, default=str).decode()


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; ``name`` becomes the ``logger`` field."""
    log = structlog.get_logger()
    return log.bind(logger=name) if name else log
