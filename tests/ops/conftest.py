"""Fixtures of the ops tests: the ops app in-process, with one configured admin email."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.ops.support import Portal, build_portal, new_email
from tests.plugins.harness import Environment, TokenIssuer

Client = AsyncTestClient[Litestar]


@pytest.fixture
def admin_email() -> str:
    return new_email("root")


@pytest.fixture
async def ops(app_client: Callable[..., Any], admin_email: str) -> AsyncIterator[Client]:
    async with app_client("ops", admin_emails=[admin_email]) as opened:
        yield opened


@pytest.fixture
async def portal(ops: Client, issuer: TokenIssuer, admin_email: str) -> Portal:
    return await build_portal(ops, issuer, admin_email)


@pytest.fixture
async def db_ops(environment: Environment) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A direct connection to the ops database, to see what is stored."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["ops"], autocommit=True
    ) as conn:
        yield conn
