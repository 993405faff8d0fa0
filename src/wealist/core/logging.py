"""structlog setup: JSON lines in production, console on a TTY, secrets never written.

Request context (``request_id``, ``route``, ``user_id``) is bound through contextvars by
the HTTP middleware, so every line logged while serving a request carries it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog

__all__ = ("AccessLog", "configure_logging", "get_logger", "redact")

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
    numeric = _numeric(level)
    processors = [*shared, structlog.processors.format_exc_info, renderer]
    ACCESS.configure(sys.stderr, None if use_console else _numeric(level), processors)
    structlog.configure(
        processors=processors,
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


def _numeric(level: str) -> int:
    numeric = logging.getLevelName(level.upper())
    return numeric if isinstance(numeric, int) else logging.INFO


class AccessLog:
    """The access line of every request, cheaper than a structlog event.

    In JSON mode the line has the fields structlog would write (the bound context, the
    event, ``level``, ``ts``), redacted the same way, but is rendered by orjson directly
    and written with the other lines of the same event-loop turn in one write, after the
    response went out. On a console (or before logging is configured) it goes through
    structlog, for the coloured renderer.
    """

    _LEVELS = {"info": logging.INFO, "error": logging.ERROR}

    def __init__(self) -> None:
        self._file: TextIO | None = None
        self._level: int | None = None  # None: structlog renders
        self._processors: list[Any] = []
        self._renderer: Any = None
        self._pending: list[bytes] = []
        self._second, self._prefix = 0, ""
        self._fallback = structlog.get_logger("wealist.access")

    def configure(self, file: TextIO, level: int | None, processors: list[Any]) -> None:
        self.flush()
        self._file, self._level = file, level
        self._processors, self._renderer = processors, processors[-1]

    def write(self, level: str, event: str, fields: dict[str, Any]) -> None:
        # structlog renders when we don't, or when someone (capture_logs) swapped the
        # processors configure_logging installed.
        if self._level is None or self._processors[-1:] != [self._renderer]:
            getattr(self._fallback, level)(event, **fields)
            return
        if self._LEVELS[level] < self._level:
            return
        line = redact(None, "", structlog.contextvars.get_contextvars())  # ours need none
        line.update(fields)
        line["event"] = event
        line["level"] = level
        line["ts"] = self._timestamp()
        self._pending.append(orjson.dumps(line, default=str))
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                self.flush()

    def _timestamp(self) -> str:
        """What structlog's ISO UTC stamper writes, with the date and time formatted once
        per second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            stamp = datetime.datetime.fromtimestamp(second, datetime.UTC)
            self._second, self._prefix = second, stamp.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{int((now - second) * 1e6):06d}Z"

    def flush(self) -> None:
        if not self._pending or self._file is None:
            return
        lines, self._pending = self._pending, []
        lines.append(b"")
        out = getattr(self._file, "buffer", None)
        if out is not None:
            self._file.flush()  # what structlog wrote before stays before
            out.write(b"\n".join(lines))
            out.flush()
        else:
            self._file.write(b"\n".join(lines).decode())
            self._file.flush()


ACCESS = AccessLog()


def _dumps(obj: Any, **_: Any) -> str:
    import orjson

    return orjson.dumps(obj, default=str).decode()


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; ``name`` becomes the ``logger`` field."""
    log = structlog.get_logger()
    return log.bind(logger=name) if name else log
