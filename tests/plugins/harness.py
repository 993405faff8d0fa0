"""The pytest plugin every wealist test stands on: real PostgreSQL and Redis, migrated
per-service databases, a token issuer with a real JWKS endpoint, in-process app clients
and real service processes.

- Servers: ``WEALIST_TEST_DATABASE_URL`` / ``WEALIST_TEST_REDIS_URL`` when set, else
  throwaway servers started here (system binaries, else the ``embedded`` extra). Each
  xdist worker starts its own, so workers never share state.
- Databases: each service's migrations are applied once to a template database (named by
  a checksum of the migration files), then cloned per worker with ``CREATE DATABASE ...
  TEMPLATE``.
- Tokens: :class:`TokenIssuer` signs RS256 tokens and serves its JWKS over HTTP, so the
  code under test fetches keys exactly as it does from the auth service.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import sql as pgsql
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from wealist.auth.revocations import LEEWAY_S, publish_revocations
from wealist.contracts.keys import REVOCATIONS_LOADED, jti_entry
from wealist.core.app import build_app, build_stack_app
from wealist.core.context import service_migrations
from wealist.core.db.migrate import migrate
from wealist.core.settings import CoreSettings, with_database
from wealist.core.spec import ServiceSpec
from wealist.devstack.servers import PostgresServer, RedisServer, free_port, port_open
from wealist.services import SERVICES, spec

ISSUER = "wealist-auth-service"
AUDIENCE = "wealist-api"  # CoreSettings.jwt_audience
INTERNAL_KEY = "test-internal-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


# --- servers ----------------------------------------------------------------------------


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL server URL (maintenance database ``postgres``)."""
    given = os.environ.get("WEALIST_TEST_DATABASE_URL")
    if given:
        yield given
        return
    root = Path(tempfile.mkdtemp(prefix=f"wealist-pg-{_worker()}-"))
    server = PostgresServer(root, durable=False)
    server.start()
    try:
        yield server.url
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("WEALIST_TEST_REDIS_URL")
    if given:
        yield given
        return
    root = Path(tempfile.mkdtemp(prefix=f"wealist-redis-{_worker()}-"))
    server = RedisServer(root, durable=False)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


# --- databases --------------------------------------------------------------------------


def _fingerprint(service: ServiceSpec) -> str:
    digest = hashlib.sha256()
    for m in service_migrations(service):
        digest.update(f"{m.label}:{m.checksum}".encode())
    return digest.hexdigest()[:10]


async def _create_from_template(server_url: str, name: str, template: str) -> None:
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
        )
        await conn.execute(
            pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                pgsql.Identifier(name), pgsql.Identifier(template)
            )
        )


async def _ensure_template(server_url: str, service: ServiceSpec) -> str:
    template = f"wlt_{service.name}_{_fingerprint(service)}"
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (template,))
        try:
            cur = await conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,))
            if await cur.fetchone() is None:
                building = f"{template}_building"
                ident = pgsql.Identifier(building)
                await conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(ident))
                await conn.execute(pgsql.SQL("CREATE DATABASE {}").format(ident))
                await migrate(with_database(server_url, building), service_migrations(service))
                await conn.execute(
                    pgsql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        ident, pgsql.Identifier(template)
                    )
                )
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (template,))
    return template


@pytest.fixture(scope="session")
async def service_databases(pg_url: str) -> dict[str, str]:
    """service name -> URL of this worker's migrated copy of its database."""
    urls: dict[str, str] = {}
    for name in SERVICES:
        service = spec(name)
        if service.database is None:
            continue
        template = await _ensure_template(pg_url, service)
        mine = f"wlt_{name}_{_worker()}_{uuid.uuid4().hex[:6]}"
        await _create_from_template(pg_url, mine, template)
        urls[name] = with_database(pg_url, mine)
    return urls


@pytest.fixture
async def fresh_database(pg_url: str) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """A factory: a brand-new empty database (for migration tests); dropped afterwards."""
    made: list[str] = []

    async def make(prefix: str = "fresh") -> str:
        name = f"wlt_{prefix}_{uuid.uuid4().hex[:8]}"
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            await conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        made.append(name)
        return with_database(pg_url, name)

    yield make
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        for name in made:
            await conn.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
            )


# --- tokens -----------------------------------------------------------------------------


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
        }


class TokenIssuer:
    """Signs tokens like the auth service and serves ``/.well-known/jwks.json`` over HTTP."""

    def __init__(self) -> None:
        self.keys = [self.new_key()]
        self.jwks_hits = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.jwks_hits += 1
                body = json.dumps({"keys": [k.jwk() for k in issuer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def new_key(kid: str | None = None) -> SigningKey:
        return SigningKey(
            kid or f"test-{uuid.uuid4().hex[:8]}",
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def claims(self, user_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id or str(uuid.uuid4()),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 900,
            "type": "access",
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self,
        user_id: str | None = None,
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        signer = key or self.keys[0]
        return jwt.encode(
            self.claims(user_id, **claims),
            signer.private,
            algorithm="RS256",
            headers={"kid": signer.kid, **(headers or {})},
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def issuer() -> Iterator[TokenIssuer]:
    found = TokenIssuer()
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def revoke(redis: Redis) -> Callable[[str], Any]:
    async def do(token: str) -> None:
        """Revoke as auth does: one push every service's verifier applies."""
        claims = jwt.decode(token, options={"verify_signature": False})
        entry = (jti_entry(claims["jti"]), int(claims["exp"]) + LEEWAY_S)
        await publish_revocations(redis, [entry])

    return do


# --- settings and apps ------------------------------------------------------------------


@dataclass
class Environment:
    """Everything a service needs to run against the test servers."""

    pg_url: str
    redis_url: str
    databases: dict[str, str]
    jwks_url: str
    # The auth service signs with the test issuer's key, so the tokens it issues verify in
    # every other service through the issuer's JWKS endpoint.
    auth_key_pem: str = ""
    auth_key_id: str = ""

    def settings(self, name: str, **overrides: Any) -> CoreSettings:
        service = spec(name)
        base = {
            "database_url": self.databases.get(name, ""),
            "postgres_url": self.pg_url,
            "redis_url": self.redis_url,
            "jwks_url": self.jwks_url,
            "jwt_issuer": ISSUER,
            "internal_api_key": INTERNAL_KEY,
            "log_format": "json",
            "log_level": "warning",
            "db_pool_min": 1,
            "db_pool_max": 5,
            "outbox_relay": False,  # a test that follows events to a consumer turns it on
        }
        if name == "auth":
            base.update(
                jwt_private_key=self.auth_key_pem,
                jwt_key_id=self.auth_key_id,
                cookie_secure=False,
            )
        base.update(overrides)
        return service.settings(**base)  # type: ignore[arg-type]

    def env(self, name: str, **extra: str) -> dict[str, str]:
        """Process environment for ``wealist serve <name>`` against the test servers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEALIST_")}
        env.update(
            {
                "WEALIST_POSTGRES_URL": self.pg_url,
                "WEALIST_REDIS_URL": self.redis_url,
                "WEALIST_JWKS_URL": self.jwks_url,
                "WEALIST_JWT_ISSUER": ISSUER,
                "WEALIST_INTERNAL_API_KEY": INTERNAL_KEY,
                "WEALIST_LOG_FORMAT": "json",
                "WEALIST_LOG_LEVEL": "warning",
                "WEALIST_AUTH_JWT_PRIVATE_KEY": self.auth_key_pem,
                "WEALIST_AUTH_JWT_KEY_ID": self.auth_key_id,
                "WEALIST_OUTBOX_RELAY": "false",
            }
        )
        for service, url in self.databases.items():
            env[f"WEALIST_{service.upper()}_DATABASE_URL"] = url
        env.update(extra)
        return env


def mark_revocations_loaded(redis_url: str) -> None:
    """What the auth service does at start: without it every service refuses every token."""
    with SyncRedis.from_url(redis_url) as client:
        client.set(REVOCATIONS_LOADED, "1")


@pytest.fixture(scope="session")
def environment(
    pg_url: str, redis_url: str, service_databases: dict[str, str], issuer: TokenIssuer
) -> Environment:
    mark_revocations_loaded(redis_url)
    key = issuer.keys[0]
    return Environment(
        pg_url, redis_url, service_databases, issuer.jwks_url, key.private_pem, key.kid
    )


@asynccontextmanager
async def serve_in_process(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def app_client(environment: Environment) -> Callable[..., Any]:
    """``async with app_client("board") as client``: a service app run in-process.

    ``routes=`` swaps in other route handlers (kernel tests mount probe routes on a real
    service spec, so the service's envelope, database and settings are the real ones).
    """

    @asynccontextmanager
    async def open_client(
        name: str, *, routes: str | None = None, **overrides: Any
    ) -> AsyncIterator[AsyncTestClient[Litestar]]:
        if name == "all":
            specs = [spec(n) for n in SERVICES]
            settings = {s.name: environment.settings(s.name, **overrides) for s in specs}
            app = build_stack_app(specs, settings, configure_logs=False)
        else:
            chosen = spec(name)
            if routes is not None:
                chosen = replace(chosen, routes=routes, fast_routes="")
            app = build_app(chosen, environment.settings(name, **overrides), configure_logs=False)
        async with serve_in_process(app) as client:
            yield client

    return open_client


# --- real processes ---------------------------------------------------------------------


@dataclass
class ServiceProcess:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL the whole process group: Granian's workers die with their parent, as
        when a container or machine goes away (a worker left behind would keep serving)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


async def wait_until_live(url: str, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"service exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/health/live", timeout=1.0)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not become live in {seconds}s")


@pytest.fixture
async def service_process(
    environment: Environment, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """``await service_process("chat")``: ``wealist serve chat`` in a real process.

    ``routes="tests.core.probe:ROUTES"`` runs the service's spec with probe routes instead.
    Call it twice for two processes of one service on the same Redis (fan-out tests).
    Extra environment goes in ``env=``; every process is stopped after the test.
    """
    started: list[ServiceProcess] = []

    async def start(
        name: str,
        *,
        env: dict[str, str] | None = None,
        workers: int = 1,
        routes: str | None = None,
        port: int | None = None,
    ) -> ServiceProcess:
        port = port or free_port()  # chosen in advance when another process must know it
        log_path = tmp_path / f"{name}-{port}.log"
        extra = dict(env or {})
        if routes is None:
            command = [
                "-m",
                "wealist",
                "serve",
                name,
                "--port",
                str(port),
                "--workers",
                str(workers),
            ]
        else:
            command = ["-m", "tests.plugins.probe_server", str(port)]
            extra.update(WEALIST_TEST_SERVICE=name, WEALIST_TEST_ROUTES=routes)
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, *command],
                env=environment.env(name, **extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # its own process group: kill() takes the workers too
            )
        found = ServiceProcess(name, port, proc, log_path)
        started.append(found)
        try:
            await wait_until_live(found.url, proc)
        except (RuntimeError, TimeoutError) as exc:
            found.stop()
            raise RuntimeError(f"{exc}\n--- {name} log ---\n{found.logs()}") from exc
        return found

    yield start
    for found in started:
        found.stop()
    assert not any(port_open(f.port) for f in started if f.proc.poll() is None)


async def start_service(
    environment: Environment, name: str, log_dir: Path, **env: str
) -> ServiceProcess:
    """``wealist serve <name>`` (``all``: every service on one port) as a real process on
    a free port, live when this returns; the caller stops it."""
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wealist", "serve", name, "--port", str(port)],
            env=environment.env(name if name != "all" else "user", **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    found = ServiceProcess(name, port, proc, log_path)
    try:
        await wait_until_live(found.url, proc)
    except (RuntimeError, TimeoutError) as exc:
        found.stop()
        raise RuntimeError(f"{exc}\n--- {name} ---\n{found.logs()}") from exc
    return found
