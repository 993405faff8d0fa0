"""Fixtures of the system-wide security tests: the whole stack in one real process
(``wealist serve all``) wired to a real S3-compatible server, a fake LiveKit (a real HTTP
server), a real Prometheus and a fake Loki, and a seeded world in it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.ops.fake_loki import FakeLoki
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.plugins.livekit_server import API_KEY, API_SECRET, FakeLiveKit
from tests.plugins.prometheus import PrometheusServer
from tests.plugins.s3_server import S3Server
from tests.security.seed import Seed, seed_everything
from tests.user.support import new_email

TURN_SECRET = "security-turn-secret-0123456789abcdef"


@pytest.fixture
def fake_loki_server() -> Any:
    fake = FakeLoki()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def portal_admin_email() -> str:
    return new_email("portal")


@pytest.fixture
async def stack(
    service_process: Callable[..., Any],
    s3_server: S3Server,
    livekit_server: FakeLiveKit,
    prometheus: Callable[[dict[str, list[int]]], PrometheusServer],
    fake_loki_server: FakeLoki,
    portal_admin_email: str,
) -> ServiceProcess:
    """Every service in one ``wealist serve all`` process, every backend configured."""
    env = {
        **s3_server.env(),
        "WEALIST_VIDEO_LIVEKIT_URL": livekit_server.url,
        "WEALIST_VIDEO_LIVEKIT_WS_URL": "ws://127.0.0.1:7880",
        "WEALIST_VIDEO_LIVEKIT_API_KEY": API_KEY,
        "WEALIST_VIDEO_LIVEKIT_API_SECRET": API_SECRET,
        "WEALIST_VIDEO_TURN_SECRET": TURN_SECRET,
        "WEALIST_VIDEO_TURN_URLS": "turn:turn.example:3478",
        "WEALIST_OPS_PROMETHEUS_URL": prometheus({}).url,
        "WEALIST_OPS_LOKI_URL": fake_loki_server.url,
        "WEALIST_OPS_ADMIN_EMAILS": portal_admin_email,
        # every request of a fuzz run comes from one address
        "WEALIST_AUTH_SIGNUP_IP_LIMIT_PER_MIN": "100000",
        "WEALIST_AUTH_LOGIN_IP_LIMIT_PER_MIN": "100000",
    }
    found: ServiceProcess = await service_process("all", env=env)
    return found


@pytest.fixture
async def stack_http(stack: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client


@pytest.fixture
async def seed(stack_http: httpx.AsyncClient, issuer: TokenIssuer) -> Seed:
    """A workspace with a project, a board, a chat, a drive, a room, notifications..."""
    return await seed_everything(stack_http, issuer)
