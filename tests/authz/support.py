"""Module-scoped services for the authorization matrices: a matrix runs each row against
the same processes and app, so one start serves every row (per xdist worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import Environment, ServiceProcess, serve_in_process, start_service
from wealist.core.app import build_app
from wealist.services import spec

Users = AsyncIterator[httpx.AsyncClient]  # the type of a matrix module's ``users`` fixture


@asynccontextmanager
async def running(
    environment: Environment, name: str, log_dir: Path, **env: str
) -> AsyncIterator[ServiceProcess]:
    """``wealist serve <name>`` in a real process, stopped on exit."""
    found = await start_service(environment, name, log_dir, **env)
    try:
        yield found
    finally:
        found.stop()


@asynccontextmanager
async def in_process(
    environment: Environment, name: str, **overrides: Any
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The service's app in-process, as ``app_client`` builds it."""
    app = build_app(spec(name), environment.settings(name, **overrides), configure_logs=False)
    async with serve_in_process(app) as client:
        yield client


@asynccontextmanager
async def user_service(
    environment: Environment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of one real ``wealist serve user``: a matrix module's ``users`` fixture
    keeps it for every row (each row builds worlds of its own)."""
    log_dir = tmp_path_factory.mktemp("matrix-users")
    async with (
        running(environment, "user", log_dir) as proc,
        httpx.AsyncClient(base_url=proc.url, timeout=10) as client,
    ):
        yield client
