"""Fixtures of the stateful property tests: the services they drive, all against the
harness's real PostgreSQL and Redis, membership answered by a real user service process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import ServiceProcess

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def user_process(service_process: Callable[..., Any]) -> ServiceProcess:
    found: ServiceProcess = await service_process("user")
    return found


@pytest.fixture
async def users(user_process: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=user_process.url, timeout=10) as client:
        yield client


@pytest.fixture
async def board(
    app_client: Callable[..., Any], user_process: ServiceProcess
) -> AsyncIterator[Client]:
    """The board app in-process (real database), membership from the user process."""
    async with app_client("board", user_service_url=user_process.url) as opened:
        yield opened


@pytest.fixture
async def auth(
    app_client: Callable[..., Any], user_process: ServiceProcess
) -> AsyncIterator[Client]:
    """The auth app in-process; every request comes from one peer, so the per-IP limits
    are lifted (throttling has its own tests)."""
    async with app_client(
        "auth",
        user_service_url=user_process.url,
        signup_ip_limit_per_min=100_000,
        login_ip_limit_per_min=100_000,
    ) as opened:
        yield opened


@pytest.fixture
async def probe(app_client: Callable[..., Any]) -> AsyncIterator[Client]:
    """Another service (board's spec with probe routes): how it treats an access token."""
    async with app_client("board", routes="tests.core.probe:ROUTES") as opened:
        yield opened


@pytest.fixture
async def chat_service(
    service_process: Callable[..., Any], user_process: ServiceProcess
) -> AsyncIterator[ServiceProcess]:
    """A real ``wealist serve chat`` process (sockets), membership from the user process;
    the per-socket frame limit is lifted because the test's barriers are frames too.

    Stopped before the user process: while it holds pooled connections to the user
    process, that one's graceful stop waits out its timeout."""
    found: ServiceProcess = await service_process(
        "chat",
        env={
            "WEALIST_USER_SERVICE_URL": user_process.url,
            "WEALIST_CHAT_WS_MESSAGES_PER_S": "10000",
        },
    )
    yield found
    found.stop()
