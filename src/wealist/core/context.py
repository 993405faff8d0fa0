"""Process-wide resources (``Runtime``) and what one service sees of them (``ServiceContext``).

Handlers receive the ``ServiceContext`` as the ``ctx`` dependency. In ``wealist serve all``
every service gets its own context over one shared runtime: one HTTP client, one Redis
client per URL, one broker subscription per topic, one revocation list per Redis (kept
current by its own subscription, started by the first service's lifespan), one metrics
registry.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wealist.core.blobs import BlobStore, make_blob_store
from wealist.core.db import Database
from wealist.core.db.migrate import Migration, discover, migrate, verify
from wealist.core.internal import InternalClient
from wealist.core.jobs import periodic
from wealist.core.membership import MembershipClient
from wealist.core.metrics import Metrics, ServiceMetrics
from wealist.core.outbox import OutboxRelay, RelayMetrics
from wealist.core.realtime.broker import RedisBroker
from wealist.core.realtime.hub import Hub
from wealist.core.security import JwksKeySet, KeySet, PushedRevocations, TokenVerifier
from wealist.core.settings import CoreSettings
from wealist.core.shutdown import Shutdown
from wealist.core.spec import ServiceSpec
from wealist.core.tickets import SocketTickets

__all__ = ("Runtime", "ServiceContext", "import_string", "service_migrations")

OUTBOX_MIGRATIONS = ("outbox", "wealist.core.outbox_migrations")


def import_string(path: str) -> Any:
    """``"package.module:attribute"`` -> the attribute."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def service_migrations(spec: ServiceSpec) -> list[Migration]:
    """Every migration of a service's database, shared streams first."""
    if spec.database is None:
        return []
    found: list[Migration] = []
    if spec.outbox:
        found += discover(*OUTBOX_MIGRATIONS)
    found += discover(spec.name, spec.migrations_package)
    return found


def make_redis(url: str) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.2), 2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


class Runtime:
    """Shared by every service of one process."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.shutdown = Shutdown()  # drain state: in-flight requests, readiness off
        self.http = httpx.AsyncClient(follow_redirects=False)
        self._redis: dict[str, Redis] = {}
        self._keysets: dict[str, JwksKeySet] = {}
        self._brokers: dict[str, RedisBroker] = {}
        self._revocations: dict[str, PushedRevocations] = {}

    def redis(self, url: str) -> Redis:
        if url not in self._redis:
            self._redis[url] = make_redis(url)
        return self._redis[url]

    def keyset(self, url: str, refetch_interval: float) -> JwksKeySet:
        if url not in self._keysets:
            self._keysets[url] = JwksKeySet(url, self.http, refetch_interval)
        return self._keysets[url]

    def broker(self, url: str) -> RedisBroker:
        if url not in self._brokers:
            self._brokers[url] = RedisBroker(self.redis(url))
        return self._brokers[url]

    def revocations(self, url: str) -> PushedRevocations:
        """The revocation list every token verifier of this process reads (one per Redis)."""
        if url not in self._revocations:
            self._revocations[url] = PushedRevocations(self.redis(url))
        return self._revocations[url]

    async def close(self) -> None:
        for broker in self._brokers.values():
            await broker.close()
        for client in self._redis.values():
            await client.aclose()
        await self.http.aclose()


class ServiceContext:
    """Everything a service's handlers and actions need, built from its spec and settings."""

    def __init__(
        self,
        spec: ServiceSpec,
        settings: CoreSettings,
        runtime: Runtime,
        keys: KeySet | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.settings = settings
        self.runtime = runtime
        self.log = structlog.get_logger(f"wealist.{spec.name}")
        self.metrics: ServiceMetrics = runtime.metrics.service(spec.name)
        self.redis: Redis = runtime.redis(settings.redis_url)
        self.db: Database | None = None
        if spec.database is not None:
            self.db = Database(
                spec.database,
                settings.database_url_for(spec.database),
                min_size=settings.db_pool_min,
                max_size=settings.db_pool_max,
                timeout=settings.db_pool_timeout_s,
                max_waiting=settings.db_pool_max_waiting,
            )
            runtime.metrics.add_pool(spec.name, self.db.stats)
        keyset = keys or runtime.keyset(settings.jwks_url, settings.jwks_refetch_interval_s)
        # Pushed by auth over Redis, held in-process: a verify makes no round trip.
        self.revocations = runtime.revocations(settings.redis_url)
        self.verifier = TokenVerifier(
            keyset,
            self.revocations,
            settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        self.tickets = SocketTickets(self.redis)
        self.internal = InternalClient(
            runtime.http, settings.internal_api_key, timeout=settings.internal_timeout_s
        )
        self.membership = MembershipClient(self.redis, self.internal, settings.user_service_url)
        self.broker: RedisBroker | None = None
        self.hub: Hub | None = None
        if spec.realtime:
            self.broker = runtime.broker(settings.redis_url)
            self.hub = Hub(self.broker, queue_size=settings.ws_queue_size)
        self.blobs: BlobStore | None = None  # opened by lifespan when configured
        self.state: dict[str, Any] = {}

    @property
    def database(self) -> Database:
        """The service's database; a programming error to ask when it has none."""
        if self.db is None:
            raise RuntimeError(f"service {self.name} has no database")
        return self.db

    async def check_redis(self) -> str:
        try:
            await self.redis.ping()
        except (RedisError, OSError):
            return "disconnected"
        return "ok"

    async def _prepare_database(self, db: Database) -> None:
        migrations = service_migrations(self.spec)
        if self.settings.migrate_on_start:
            applied = await migrate(db.url, migrations)
            for m in applied:
                self.log.info("db.migration_applied", migration=m.label)
        else:
            await verify(db.url, migrations)
        await db.open(wait=False)

    async def _open_blobs(self, stack: AsyncExitStack) -> None:
        own_url = f"http://{self.settings.host}:{self.settings.port or self.spec.port}"
        store = make_blob_store(self.settings, own_url)
        if store is None:
            self.log.info(
                "blobs.not_configured",
                hint="set WEALIST_S3_BUCKET (or WEALIST_BLOB_DIR) to allow uploads",
            )
            return
        await store.open()
        stack.push_async_callback(store.close)
        self.blobs = store

    def _relay(self, db: Database) -> OutboxRelay:
        from wealist.core.events import HttpDelivery  # routes live there; context must not

        metrics = RelayMetrics.of(self.runtime.metrics.registry, f"{self.name}_service")
        return OutboxRelay(
            db, HttpDelivery(self.internal, self.settings, self.name), metrics=metrics
        )

    def _kernel_jobs(self) -> AbstractAsyncContextManager[None]:
        from wealist.core.idempotency import prune_idempotency_keys  # it imports this module

        async def prune() -> int:
            return await prune_idempotency_keys(self)

        return periodic(self.name, {"idempotency-prune": (3600.0, prune)})

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # First: the service starts with its revocation list loaded (when Redis answers);
            # stopped last (shared by the services of one process).
            await stack.enter_async_context(self.revocations.running())
            if self.db is not None:
                await self._prepare_database(self.db)
                stack.push_async_callback(self.db.close)
            if self.spec.blobs:
                await self._open_blobs(stack)
            if self.broker is not None:
                await self.broker.start()
            if self.hub is not None:
                stack.push_async_callback(self.hub.close)
            if self.db is not None and self.spec.outbox and self.settings.outbox_relay:
                await stack.enter_async_context(self._relay(self.db).running())
            if self.db is not None and self.spec.outbox:
                await stack.enter_async_context(self._kernel_jobs())
            for path in self.spec.hooks:
                hook: Callable[[ServiceContext], Any] = import_string(path)
                await stack.enter_async_context(asynccontextmanager(hook)(self))
            self.log.info("service.started", port=self.settings.port or self.spec.port)
            yield
