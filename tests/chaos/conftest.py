"""The chaos harness: real ``wealist serve`` processes whose links to PostgreSQL and Redis
each go through a :class:`~tests.plugins.faultproxy.FaultProxy` of their own, so a
scenario can delay, stall, reset or refuse one process's link while the others run on.

Scale: ``WEALIST_CHAOS_SCALE=full`` runs each scenario at the size reliability.md names
(``nox -s chaos``); the default is the short form CI runs in the ordinary suite.
Figures: with ``WEALIST_CHAOS_REPORT=<file>`` each scenario appends one JSON line of
what it measured (docs/chaos.md is filled from those lines).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.plugins.faultproxy import FaultProxy
from tests.plugins.harness import (
    Environment,
    ServiceProcess,
    TokenIssuer,
    mark_revocations_loaded,
)
from tests.user.support import World, build_world
from wealist.devstack.servers import RedisServer

FULL = os.environ.get("WEALIST_CHAOS_SCALE", "short") == "full"


def size(short: int, full: int) -> int:
    """A count for the short form (CI) or the full scenario."""
    return full if FULL else short


@dataclass
class Node:
    """One service process and the proxies on its links."""

    proc: ServiceProcess
    pg: FaultProxy
    redis: FaultProxy
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.proc.url

    @property
    def ws_url(self) -> str:
        return self.proc.ws_url

    @property
    def alive(self) -> bool:
        return self.proc.proc.poll() is None


class OwnRedis:
    """A Redis of the scenario's own (no persistence), so it can crash and come back empty
    on the same port without touching the worker's shared one."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="wealist-chaos-redis-"))
        self.server = RedisServer(self.root, durable=False)
        self.restarts = 0

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def crash(self) -> None:
        """SIGKILL: every connection drops and everything in memory is gone."""
        proc = self.server.proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)

    def restart(self) -> None:
        self.crash()
        self.server.start()
        self.restarts += 1

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    found = OwnRedis()
    found.start()
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
async def users(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real user process (membership answers for chat and board)."""
    proc = await service_process("user")
    async with httpx.AsyncClient(base_url=proc.url, timeout=15) as client:
        yield client


@pytest.fixture
async def world(users: httpx.AsyncClient, issuer: TokenIssuer) -> World:
    return await build_world(users, issuer)


class Cluster:
    """Starts service processes, each behind its own PostgreSQL and Redis proxies."""

    def __init__(
        self,
        environment: Environment,
        service_process: Callable[..., Any],
        fault_proxy: Callable[[str], FaultProxy],
        users: httpx.AsyncClient,
    ) -> None:
        self.environment = environment
        self._start = service_process
        self._proxy = fault_proxy
        self.user_url = str(users.base_url).rstrip("/")
        self.nodes: list[Node] = []

    async def start(
        self,
        name: str,
        *,
        redis_url: str | None = None,
        env: dict[str, str] | None = None,
        routes: str | None = None,
        **settings: Any,
    ) -> Node:
        """``wealist serve <name>`` with its links proxied; settings as WEALIST_<NAME>_<K>."""
        environment = self.environment
        pg = self._proxy(environment.pg_url)
        redis = self._proxy(redis_url or environment.redis_url)
        extra = {
            "WEALIST_POSTGRES_URL": pg.proxied(environment.pg_url),
            "WEALIST_REDIS_URL": redis.proxied(redis_url or environment.redis_url),
            "WEALIST_USER_SERVICE_URL": self.user_url,
        }
        database = environment.databases.get(name)
        if database:
            extra[f"WEALIST_{name.upper()}_DATABASE_URL"] = pg.proxied(database)
        extra.update({f"WEALIST_{name.upper()}_{k.upper()}": str(v) for k, v in settings.items()})
        extra.update(env or {})
        proc = await self._start(name, env=extra, routes=routes)
        node = Node(proc, pg, redis, extra)
        self.nodes.append(node)
        return node

    async def restart(self, node: Node) -> Node:
        """The killed ``node``'s service again: same port, same proxies, same settings."""
        assert not node.alive
        proc = await self._start(node.proc.name, env=node.env, port=node.proc.port)
        node.proc = proc
        return node


@pytest.fixture
def cluster(
    environment: Environment,
    service_process: Callable[..., Any],
    fault_proxy: Callable[[str], FaultProxy],
    users: httpx.AsyncClient,
) -> Cluster:
    return Cluster(environment, service_process, fault_proxy, users)


@pytest.fixture
def database(environment: Environment) -> Callable[[str], Any]:
    """``async with database("chat") as conn``: a direct autocommit connection (audits)."""

    @asynccontextmanager
    async def opened(name: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        url = environment.databases[name]
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            yield conn

    return opened


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``report(scenario, **figures)``: one JSON line in $WEALIST_CHAOS_REPORT, if set."""

    def write(scenario: str, **figures: Any) -> None:
        target = os.environ.get("WEALIST_CHAOS_REPORT")
        line = {
            "scenario": scenario,
            "test": request.node.name,
            "scale": "full" if FULL else "short",
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **figures,
        }
        if target:
            with Path(target).open("a") as out:
                out.write(json.dumps(line) + "\n")

    return write


def revocations_loaded(redis_url: str) -> None:
    """What auth does at start (tests that run no auth process on their own Redis)."""
    mark_revocations_loaded(redis_url)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Chaos scenarios kill processes and reset links mid-flight: a transport of the test's
    own clients or fault proxy that the garbage collector finalizes is not a failure of
    the scenario (its pass criteria are the ids and sequence numbers it checks)."""
    for item in items:
        if "tests/chaos/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
