"""The ``wealist`` command: serve, migrate, routes, openapi, up.

Every subcommand imports only what it needs, so ``wealist serve chat`` loads no board code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence

from wealist.services import SERVICES

__all__ = ("main",)

ALL = "all"
ALL_PORT = 8090
# Granian kills a worker this long after the drain budget (a drain stuck past its own
# deadline); the orchestrator's grace period must cover drain + this (deploy/k8s).
KILL_MARGIN_S = 5
# A client must send a request's whole header within this (Granian's default is 30 s; the
# gateway's client_header_timeout is 10 s). Granian has no body or send timeout: behind
# nginx (request and response buffering) slow bodies and slow readers never reach it.
HEADER_READ_TIMEOUT_S = 10
# A worker that dies is replaced at once (Granian's respawn_failed_workers); Granian waits
# this long only in a graceful respawn (SIGHUP reload), between starting the new worker
# and stopping the old. A worker that cannot start is not retried for ever: see
# wealist.startguard.
RESPAWN_INTERVAL_S = 1.0


def _service_arg(parser: argparse.ArgumentParser, allow_all: bool = True) -> None:
    choices = [*SERVICES, ALL] if allow_all else list(SERVICES)
    parser.add_argument("service", choices=choices, help=" | ".join(choices))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wealist", description="weAlist backend services.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run a service (or all of them on one port) with Granian")
    _service_arg(serve)
    serve.add_argument("--host", help="bind address (default: WEALIST_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: the service's own; all: 8090)")
    serve.add_argument(
        "--workers", type=int, help="worker processes (default: WEALIST_WORKERS or 1)"
    )

    migrate = sub.add_parser("migrate", help="create the service databases and apply migrations")
    _service_arg(migrate)

    routes = sub.add_parser(
        "routes", help="print 'METHOD /path' per route ('WS /path' for sockets)"
    )
    _service_arg(routes)

    openapi = sub.add_parser("openapi", help="print a service's OpenAPI document as JSON")
    _service_arg(openapi, allow_all=False)

    sub.add_parser("keygen", help="print a new RSA signing key (PEM) for the auth service")

    up = sub.add_parser(
        "up", help="run the whole stack locally (embedded Postgres/Redis if none given)"
    )
    up.add_argument("--data-dir", default=".wealist", help="where embedded servers keep data")
    up.add_argument("--no-gateway", action="store_true", help="do not start the nginx gateway")
    up.add_argument(
        "--exit-after", type=float, help="stop by itself after N seconds (CI smoke runs)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "serve": _serve,
        "migrate": lambda a: asyncio.run(_migrate(a.service)),
        "routes": lambda a: _routes(a.service),
        "openapi": lambda a: _openapi(a.service),
        "up": _up,
        "keygen": lambda a: _keygen(),
    }
    try:
        result: int = commands[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a CLI error is one readable line, not a traceback
        if _is_user_error(exc):
            print(f"wealist {args.command}: {exc}", file=sys.stderr)
            return 1
        raise
    return result


def _is_user_error(exc: Exception) -> bool:
    from psycopg import OperationalError

    from wealist.core.db.migrate import MigrationError
    from wealist.core.settings import SettingsError

    return isinstance(exc, SettingsError | MigrationError | OperationalError | OSError)


def _keygen() -> int:
    from wealist.devstack.prepare import private_key_pem

    sys.stdout.write(private_key_pem().decode())
    return 0


def _up(args: argparse.Namespace) -> int:
    from wealist.devstack.up import run_up

    return run_up(args)


def _serve(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings

    from wealist.core.settings import CoreSettings, load_settings
    from wealist.services import spec
    from wealist.startguard import StartGuard

    # Workers inherit this: on SIGTERM they drain before Granian stops them (core.shutdown).
    os.environ.setdefault("WEALIST_DRAIN_ON_SIGTERM", "true")
    if args.service == ALL:
        target, default_port, settings = (
            "wealist.stack:create_app",
            ALL_PORT,
            load_settings(CoreSettings),
        )
    else:
        chosen = spec(args.service)
        target = f"wealist.{chosen.name}.asgi:create_app"
        default_port = chosen.port
        settings = load_settings(chosen.settings, chosen.name)
    workers = args.workers or settings.workers
    port = args.port or settings.port or default_port
    host = args.host or settings.host
    if args.service == ALL:
        _point_services_at(host, port)
    else:  # the workers' settings: where this process listens (URLs it advertises)
        os.environ[f"WEALIST_{args.service.upper()}_PORT"] = str(port)
        os.environ[f"WEALIST_{args.service.upper()}_HOST"] = host
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Every worker writes its counters here and /metrics merges them.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="wealist-metrics-")
    print(
        f"wealist serve {args.service}: http://{host}:{port} ({workers} worker(s))", file=sys.stderr
    )
    guard = StartGuard(args.service, workers)
    Granian(
        target,
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=workers,
        loop=Loops.uvloop,
        websockets=True,
        log_access=False,
        backlog=settings.backlog,
        backpressure=settings.max_connections,
        workers_kill_timeout=math.ceil(settings.shutdown_drain_s) + KILL_MARGIN_S,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_S * 1000),
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_INTERVAL_S,
    ).serve(target_loader=guard)
    return 1 if guard.refused else 0


def _point_services_at(host: str, port: int) -> None:
    """With every service on one port, they find each other (membership, outbox events,
    keys) there, unless told otherwise. Workers inherit the environment."""
    from wealist.services import SERVICES

    here = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"  # noqa: S104
    os.environ.setdefault("WEALIST_SERVICE_URLS", json.dumps(dict.fromkeys(SERVICES, here)))
    os.environ.setdefault("WEALIST_USER_SERVICE_URL", here)
    os.environ.setdefault("WEALIST_JWKS_URL", f"{here}/.well-known/jwks.json")


async def _migrate(name: str) -> int:
    from wealist.core.context import service_migrations
    from wealist.core.db.migrate import ensure_database, migrate
    from wealist.core.settings import load_settings
    from wealist.services import specs

    for chosen in specs(name):
        if chosen.database is None:
            continue
        settings = load_settings(chosen.settings, chosen.name)
        url = settings.database_url_for(chosen.database)
        if not settings.database_url:
            created = await ensure_database(settings.postgres_url, chosen.database)
            if created:
                print(f"{chosen.name}: created database {chosen.database}")
        applied = await migrate(url, service_migrations(chosen))
        names = ", ".join(m.label for m in applied) or "up to date"
        print(f"{chosen.name}: {names}")
    return 0


def _app(name: str):  # type: ignore[no-untyped-def]  # a Litestar app, built without I/O
    from wealist.core.app import build_app, build_stack_app
    from wealist.services import spec, specs

    if name == ALL:
        return build_stack_app(specs(ALL), configure_logs=False)
    return build_app(spec(name), configure_logs=False)


def _routes(name: str) -> int:
    from wealist.core.app import route_lines

    for line in route_lines(_app(name)):
        print(line)
    return 0


def _openapi(name: str) -> int:
    schema = _app(name).openapi_schema.to_schema()
    print(json.dumps(schema, indent=2, sort_keys=True))
    return 0
