"""``wealist up``: the whole stack on one machine, with no prior setup.

PostgreSQL and Redis come from ``WEALIST_POSTGRES_URL`` / ``WEALIST_REDIS_URL`` when set,
else embedded servers keep their data under the data dir (``.wealist/postgres``,
``.wealist/redis``). Then every database is migrated, each service runs as its own
``wealist serve <svc>`` process (log in ``.wealist/logs/<svc>.log``; the previous runs' in
``<svc>.log.1`` to ``.3``), and once every ``/health/ready`` answers 200 it keeps them
running until Ctrl-C, SIGTERM or ``--exit-after``: a service, the gateway or an embedded
server that exits is restarted with a backoff while the rest runs on
(:mod:`wealist.devstack.supervise`). A failure while the stack starts stops it. Ports and
secrets chosen on the first run are kept in ``.wealist/state.json`` and reused.

Unless ``--no-gateway``, the gateway of ``deploy/nginx`` runs in front of the services on
``WEALIST_GATEWAY_PORT`` (default 8088, its files under ``.wealist/gateway``; without nginx
``up`` stops at once, naming the package), and the URLs browsers are given (local files,
auth's discovery and OAuth callback) point at it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from wealist.devstack.blobs import blob_env, describe_blobs
from wealist.devstack.gateway import Gateway, find_nginx
from wealist.devstack.prepare import (
    State,
    UpError,
    choose_port,
    ensure_binaries,
    ensure_jwt_key,
    make_traversable,
    port_free,
    say,
)
from wealist.devstack.procs import (
    HOST,
    Service,
    StopRequestedError,
    ctrl_c_blocked,
    rotate_log,
    service_port,
    wait_ready,
)
from wealist.devstack.servers import PostgresServer, RedisServer, port_open
from wealist.devstack.supervise import (
    GatewayUnit,
    PostgresUnit,
    RedisUnit,
    ServiceUnit,
    Supervisor,
    Unit,
    report,
    supervise,
)
from wealist.services import SERVICES

__all__ = ("run_up",)

GIVEN_BY = {"PostgreSQL": "WEALIST_POSTGRES_URL", "Redis": "WEALIST_REDIS_URL"}


def shown_url(url: str) -> str:
    """``url`` without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


@dataclass
class Stack:
    """The servers and services of one ``wealist up``, started in order, stopped in reverse."""

    data_dir: Path  # as the user wrote it, for messages
    environ: Mapping[str, str]
    stopping: threading.Event
    env: dict[str, str] = field(default_factory=dict)
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    services: list[Service] = field(default_factory=list)
    want_gateway: bool = True
    gateway: Gateway | None = None
    gateway_port: int | None = None
    gateway_note: str = "not configured yet"
    supervisors: list[Supervisor] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.data_dir.absolute()

    def stop_if_asked(self) -> None:
        if self.stopping.is_set():
            raise StopRequestedError

    def start(self) -> None:
        began = time.monotonic()
        ports = {name: service_port(name, self.environ) for name in SERVICES}
        for name, port in ports.items():
            others = [other for other, p in ports.items() if p == port and other != name]
            if others:
                raise UpError(f"{name} and {others[0]} are both set to port {port}")
            if not port_free(port):
                raise UpError(
                    f"{name}: port {port} is already in use "
                    f"(stop what listens there or set WEALIST_{name.upper()}_PORT)"
                )
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        state = State.load(self.root / "state.json")
        self.gateway_port = self.choose_gateway_port(state, set(ports.values()))
        key_path = self.root / "keys" / "jwt-private.pem"
        if ensure_jwt_key(key_path):
            say(f"auth: created the JWT signing key {self.data_dir / 'keys' / 'jwt-private.pem'}")
        self.env = self.service_env(state, key_path, ports)
        taken = set(ports.values()) | ({self.gateway_port} if self.gateway_port else set())
        self.start_data_servers(state, taken)
        state.save(self.root / "state.json")
        self.migrate()
        for name in ports:  # the last runs' logs stay, as <svc>.log.1 (.2, .3)
            rotate_log(self.root / "logs" / f"{name}.log")
        for name, port in ports.items():
            self.stop_if_asked()
            service = Service(name, port, self.root / "logs" / f"{name}.log")
            say(f"{name}: starting on :{port}")
            service.start(self.env)
            self.services.append(service)
        wait_ready(self.services, self.stopping)
        say(f"all {len(self.services)} services ready in {time.monotonic() - began:.1f} s")
        self.start_gateway(ports)

    def choose_gateway_port(self, state: State, taken: set[int]) -> int | None:
        """The gateway's port, or None when it will not run (and why, for the summary)."""
        if not self.want_gateway:
            self.gateway_note = "not started (--no-gateway)"
            return None
        if find_nginx() is None:  # the original frontend talks to the gateway: no silent skip
            raise UpError(
                "nginx is not installed (the gateway): run apt-get install -y nginx-light,"
                " or start with --no-gateway"
            )
        given = self.environ.get("WEALIST_GATEWAY_PORT")
        if given is not None:
            try:
                port = int(given)
            except ValueError:
                raise UpError(f"WEALIST_GATEWAY_PORT={given!r} is not a port number") from None
            if port in taken or not port_free(port):
                raise UpError(f"gateway: port {port} is already in use")
            return port
        state.gateway_port = choose_port(state.gateway_port, taken)
        return state.gateway_port

    def start_gateway(self, ports: dict[str, int]) -> None:
        if self.gateway_port is None:
            say(f"gateway: {self.gateway_note}")
            return
        self.stop_if_asked()
        upstreams = {name: [f"{HOST}:{port}"] for name, port in ports.items()}
        gateway = Gateway(self.root / "gateway", upstreams, self.gateway_port)
        try:
            gateway.start()
        except (RuntimeError, OSError) as exc:
            raise UpError(f"gateway: {exc}") from exc
        self.gateway = gateway
        self.gateway_note = gateway.url
        say(f"gateway: nginx on {gateway.url} (logs: {self.data_dir / 'gateway' / 'logs'})")

    def service_env(self, state: State, key_path: Path, ports: dict[str, int]) -> dict[str, str]:
        env = dict(self.environ)
        defaults = {
            "WEALIST_INTERNAL_API_KEY": state.internal_api_key,
            "WEALIST_AUTH_JWT_PRIVATE_KEY_FILE": str(key_path),
            "WEALIST_JWKS_URL": f"http://{HOST}:{ports['auth']}/.well-known/jwks.json",
            "WEALIST_USER_SERVICE_URL": f"http://{HOST}:{ports['user']}",
            # how services find each other (outbox events, membership), on the chosen ports
            "WEALIST_SERVICE_URLS": json.dumps(
                {name: f"http://{HOST}:{port}" for name, port in ports.items()}
            ),
        }
        for variable, value in defaults.items():
            if variable not in env and f"{variable}_FILE" not in env:
                env[variable] = value
        # Browsers reach auth through the gateway (discovery, OAuth callbacks) when it runs.
        if self.gateway_port is not None and "WEALIST_AUTH_PUBLIC_URL" not in env:
            env["WEALIST_AUTH_PUBLIC_URL"] = f"http://{HOST}:{self.gateway_port}"
        # File URLs go through the gateway when it runs (it routes /api/blobs to storage).
        public = (
            f"http://{HOST}:{self.gateway_port}"
            if self.gateway_port is not None
            else f"http://{HOST}:{ports['storage']}"
        )
        env.update(blob_env(env, self.root, state.blob_secret, public))
        env.setdefault("PYTHONUNBUFFERED", "1")  # logs reach the file before a crash
        return env

    def start_data_servers(self, state: State, taken: set[int]) -> None:
        wanted = []
        for name, variable in GIVEN_BY.items():
            if variable in self.environ:
                say(f"{name.lower()}: using {shown_url(self.environ[variable])} (from {variable})")
            else:
                wanted.append(name)
        ensure_binaries(wanted)
        if "PostgreSQL" in wanted:
            self.stop_if_asked()
            state.postgres_port = choose_port(state.postgres_port, taken)
            self.start_postgres(state.postgres_port)
        if "Redis" in wanted:
            self.stop_if_asked()
            taken.add(state.postgres_port)
            state.redis_port = choose_port(state.redis_port, taken)
            self.start_redis(state.redis_port)

    def start_postgres(self, port: int) -> None:
        server = PostgresServer(self.root / "postgres", port, durable=True)
        if server.user is not None:  # root: PostgreSQL runs as the postgres system user
            for directory, mode in make_traversable(self.root, server.user):
                say(f"postgres: let the {server.user} user through {directory} (mode {mode:o})")
        fresh = not server.initialized
        self.postgres = server
        try:
            server.start()
        except (RuntimeError, OSError) as exc:
            raise UpError(f"postgres: {exc} (log: {server.root / 'postgres.log'})") from exc
        where = f"{'new data' if fresh else 'data'} in {self.data_dir / 'postgres'}"
        say(f"postgres: started on {HOST}:{port} ({where})")
        self.env["WEALIST_POSTGRES_URL"] = server.url

    def start_redis(self, port: int) -> None:
        server = RedisServer(self.root / "redis", port, durable=True)
        self.redis = server
        try:
            with ctrl_c_blocked():  # RedisServer leaves redis in our process group
                server.start()
        except (RuntimeError, OSError) as exc:
            raise UpError(f"redis: {exc} (log: {server.root / 'redis.log'})") from exc
        say(f"redis: started on {HOST}:{port} (data in {self.data_dir / 'redis'})")
        self.env["WEALIST_REDIS_URL"] = server.url

    def migrate(self) -> None:
        self.stop_if_asked()
        say("migrating...")
        done = subprocess.run(
            [sys.executable, "-m", "wealist", "migrate", "all"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        self.stop_if_asked()
        for line in (done.stdout + done.stderr).splitlines():
            say(f"  {line}")
        if done.returncode != 0:
            raise UpError(f"migration failed with exit code {done.returncode}")

    def summary(self) -> None:
        rows = [(s.name, s.url) for s in self.services]
        rows += [
            ("postgres", shown_url(self.env["WEALIST_POSTGRES_URL"])),
            ("redis", shown_url(self.env["WEALIST_REDIS_URL"])),
            ("files", describe_blobs(self.env)),
            ("gateway", self.gateway_note),
            ("logs", f"{self.data_dir / 'logs'}/"),
        ]
        say("")
        for name, url in rows:
            say(f"  {name:<9} {url}")
        say("")
        say("Ctrl-C to stop")

    def units(self) -> list[Unit]:
        """What ``watch`` keeps running: every service, the gateway, our own servers."""
        units: list[Unit] = [ServiceUnit(service, self.env) for service in self.services]
        if self.gateway is not None:
            units.append(GatewayUnit(self.gateway))
        if self.redis is not None:
            units.append(RedisUnit(self.redis))
        if self.postgres is not None:
            units.append(PostgresUnit(self.postgres, self.root))
        return units

    def watch(self, exit_after: float | None) -> int:
        """Keep everything running until a signal or ``--exit-after``; the exit code."""
        deadline = None if exit_after is None else time.monotonic() + exit_after
        self.supervisors = supervise(self.units(), self.stopping)
        while not self.stopping.wait(0.5):
            failed = [s for s in self.supervisors if s.error is not None]
            if failed:
                report(f"{failed[0].unit.name}: no longer supervised; stopping")
                return 1
            if deadline is not None and time.monotonic() >= deadline:
                report(f"--exit-after {exit_after:g}: stopping")
                return 0
        report("stopping...")
        return 0

    def stop(self) -> bool:
        """Stop the gateway, services, then Redis (it snapshots), then PostgreSQL; False if
        one resisted."""
        self.stopping.set()  # no more restarts; a restart under way finishes first
        for supervisor in self.supervisors:
            supervisor.join(90)
        if self.gateway is not None:
            self.gateway.stop()
            say("gateway: stopped")
        for service in self.services:
            if service.proc is not None and service.proc.poll() is None:
                service.proc.terminate()
        for service in self.services:
            service.stop()
        if self.services:
            say(f"services: stopped ({len(self.services)})")
        clean = True
        if self.redis is not None and self.redis.proc is not None:
            self.redis.stop()  # SIGTERM: it saves its snapshot first
            clean = self.redis.proc.returncode == 0
            say("redis: stopped" if clean else f"redis: killed, see {self.redis.root}/redis.log")
        if self.postgres is not None:
            clean = self.stop_postgres(self.postgres) and clean
        return clean

    def stop_postgres(self, server: PostgresServer) -> bool:
        if server.user is not None:  # something may have tightened a directory since
            make_traversable(self.root, server.user)
        server.stop("fast")
        if port_open(server.port):
            say(f"postgres: did not stop; see {server.root / 'postgres.log'}")
            return False
        say("postgres: stopped")
        return True


@contextlib.contextmanager
def stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_up(args: argparse.Namespace) -> int:
    """Entry point of ``wealist up``: 0 after a clean stop, 1 on failure, 130 if interrupted."""
    stopping = threading.Event()
    stack = Stack(Path(args.data_dir), os.environ, stopping, want_gateway=not args.no_gateway)
    code = 1
    with stop_on_signals(stopping):
        try:
            stack.start()
            stack.summary()
            code = stack.watch(args.exit_after)
        except StopRequestedError:
            say("interrupted: stopping")
            code = 130
        except UpError as exc:
            print(f"wealist up: {exc}", file=sys.stderr, flush=True)
            code = 1
        finally:
            stopped_cleanly = stack.stop()
    if code == 0 and not stopped_cleanly:
        return 1
    return code
