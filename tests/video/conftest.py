"""Fixtures of the video service tests: the video app in-process against a fake LiveKit
server (real HTTP, real ``livekit-api`` client), next to a real user service process that
answers membership and profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.plugins.livekit_server import FakeLiveKit, livekit_settings
from tests.user.support import World, build_world


@pytest.fixture
async def users(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real ``wealist serve user`` process."""
    proc = await service_process("user")
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        yield client


@pytest.fixture
async def video(
    app_client: Callable[..., Any], users: httpx.AsyncClient, livekit_server: FakeLiveKit
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = livekit_settings(livekit_server, user_service_url=str(users.base_url))
    async with app_client("video", **settings) as opened:
        yield opened


def video_env(fake: FakeLiveKit, users: httpx.AsyncClient, **extra: str) -> dict[str, str]:
    """The environment of a ``wealist serve video`` process for these tests."""
    settings = livekit_settings(fake, user_service_url=str(users.base_url))
    env = {f"WEALIST_VIDEO_{k.upper()}": str(v) for k, v in settings.items()}
    return {**env, **extra}


@pytest.fixture
async def video_process(
    service_process: Callable[..., Any], users: httpx.AsyncClient, livekit_server: FakeLiveKit
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real ``wealist serve video`` process: requests really run at once
    (the in-process test client hands them to the app one at a time)."""
    env = video_env(livekit_server, users, WEALIST_VIDEO_DB_POOL_MAX="5")
    proc = await service_process("video", env=env)
    async with httpx.AsyncClient(base_url=proc.url, timeout=30) as client:
        yield client


@pytest.fixture
async def world(users: httpx.AsyncClient, issuer: TokenIssuer) -> World:
    """Workspace A (owner, admin, member), workspace B (its admin), an outsider."""
    return await build_world(users, issuer)


@pytest.fixture
async def db_video(environment: Any) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A direct connection to the video service's database, to see what is stored."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["video"], autocommit=True
    ) as conn:
        yield conn
