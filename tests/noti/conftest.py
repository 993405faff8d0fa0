"""Fixtures of the noti tests: the noti app in-process, or as a real process (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient


@pytest.fixture
async def noti(app_client: Callable[..., Any]) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with app_client("noti") as opened:
        yield opened


@pytest.fixture
async def noti_proc(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a real ``wealist serve noti`` process (streams need a real server)."""
    proc = await service_process("noti", env={"WEALIST_NOTI_SSE_PING_S": "0.5"})
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        yield client


@pytest.fixture
async def db_noti(environment: Any) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A direct connection to the noti database, to see what is stored."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["noti"], autocommit=True
    ) as conn:
        yield conn
