"""Fixtures of the chat service tests: the chat app in-process (or as real processes),
next to a real user service process that answers membership."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import World, build_world


@pytest.fixture
async def users(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real ``wealist serve user`` process."""
    proc = await service_process("user")
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        yield client


@pytest.fixture
async def chat(
    app_client: Callable[..., Any], users: httpx.AsyncClient
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with app_client("chat", user_service_url=str(users.base_url)) as opened:
        yield opened


@pytest.fixture
async def world(users: httpx.AsyncClient, issuer: TokenIssuer) -> World:
    """Workspace A (owner, admin, member), workspace B (its admin), an outsider."""
    return await build_world(users, issuer)


@pytest.fixture
async def db_chat(environment: Environment) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A direct connection to the chat service's database, to see what is stored."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["chat"], autocommit=True
    ) as conn:
        yield conn


@pytest.fixture
def chat_process(
    service_process: Callable[..., Any], users: httpx.AsyncClient
) -> Callable[..., Any]:
    """``await chat_process(**settings)``: a real ``wealist serve chat`` process whose
    membership answers come from the user process; settings as WEALIST_CHAT_<NAME>."""

    async def start(**settings: Any) -> Any:
        env = {"WEALIST_USER_SERVICE_URL": str(users.base_url).rstrip("/")}
        env.update({f"WEALIST_CHAT_{k.upper()}": str(v) for k, v in settings.items()})
        return await service_process("chat", env=env)

    return start
