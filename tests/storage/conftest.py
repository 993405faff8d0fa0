"""Fixtures of the storage tests: the storage app in-process on either blob backend, next
to one real user service process per worker (membership answers and the cache)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.plugins.harness import ROOT, Environment, TokenIssuer, wait_until_live
from tests.plugins.s3_server import S3Server
from tests.storage.support import BASE, SECRET, Drive
from tests.user.support import World, build_world
from wealist.devstack.servers import free_port


@pytest.fixture(scope="session")
async def user_service(
    environment: Environment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """``wealist serve user`` for the whole session (it only answers membership here)."""
    port = free_port()
    log = tmp_path_factory.mktemp("storage-users") / "user.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wealist", "serve", "user", "--port", str(port)],
            env=environment.env("user"),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_live(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
async def users(user_service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=user_service, timeout=10) as client:
        yield client


@pytest.fixture
async def world(users: httpx.AsyncClient, issuer: TokenIssuer) -> World:
    """Workspace A (owner, admin, member), workspace B (its admin), an outsider."""
    return await build_world(users, issuer)


def backend_settings(name: str, s3: S3Server, tmp: Path) -> dict[str, Any]:
    if name == "s3":
        return s3.settings()
    return {"blob_dir": str(tmp / "blobs"), "blob_secret": SECRET, "blob_public_url": BASE}


@pytest.fixture
def open_drive(
    app_client: Callable[..., Any],
    user_service: str,
    s3_server: S3Server,
    tmp_path: Path,
) -> Callable[..., Any]:
    """``async with open_drive("local", **settings) as drive``: the storage app."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_one(backend: str, **overrides: Any) -> AsyncIterator[Drive]:
        settings = {
            **backend_settings(backend, s3_server, tmp_path),
            "user_service_url": user_service,
            "cleanup_interval_s": 3600.0,
            **overrides,
        }
        async with app_client("storage", **settings) as client, httpx.AsyncClient() as http:
            yield Drive(backend, client, http)

    return open_one


@pytest.fixture(params=["s3", "local"])
async def drive(
    request: pytest.FixtureRequest, open_drive: Callable[..., Any]
) -> AsyncIterator[Drive]:
    """The storage app on each blob backend in turn."""
    async with open_drive(request.param) as opened:
        yield opened


@pytest.fixture
async def local_drive(open_drive: Callable[..., Any]) -> AsyncIterator[Drive]:
    async with open_drive("local") as opened:
        yield opened


@pytest.fixture
async def db(environment: Environment) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A direct connection to the storage database, to see what is stored."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["storage"], autocommit=True
    ) as conn:
        yield conn
