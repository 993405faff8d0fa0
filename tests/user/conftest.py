"""Fixtures of the user service tests: the app in-process and its database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import Db, World, build_world


@pytest.fixture
async def client(app_client: Callable[..., Any]) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The user service in-process. Its requests run one at a time: race tests use a
    real process instead (``test_login_races``)."""
    async with app_client("user") as opened:
        yield opened


@pytest.fixture
async def db(environment: Environment) -> AsyncIterator[Db]:
    """A direct connection to the user service's database, to see what is stored."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["user"], autocommit=True
    ) as conn:
        yield conn


@pytest.fixture
async def world(client: AsyncTestClient[Litestar], issuer: TokenIssuer) -> World:
    """Workspace A with its owner, an admin and a member; workspace B with its owner and
    an admin; a signed-in outsider."""
    return await build_world(client, issuer)
