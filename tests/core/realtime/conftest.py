"""Fixtures for the real-time tests: one shared board process and WebSocket clients."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.core.realtime.clients import ROUTES, Client
from tests.plugins.harness import ROOT, Environment, ServiceProcess, TokenIssuer, wait_until_live
from wealist.devstack.servers import free_port

# The shared process's settings: heartbeats every half second, 1 KiB client frames.
SHARED_ENV = {
    "WEALIST_WS_HEARTBEAT_S": "0.5",
    "WEALIST_WS_MAX_FRAME_BYTES": "1024",
    "WEALIST_WS_QUEUE_SIZE": "256",
}


@pytest.fixture(scope="module")
async def board(
    environment: Environment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """One real ``board`` process (Granian) serving the probe routes, for a whole module.

    The harness's ``service_process`` starts a process per test; the WebSocket session
    tests share one instead (each uses its own room).
    """
    port = free_port()
    log_path = Path(tmp_path_factory.mktemp("board")) / f"board-{port}.log"
    env = environment.env(
        "board", WEALIST_TEST_SERVICE="board", WEALIST_TEST_ROUTES=ROUTES, **SHARED_ENV
    )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.plugins.probe_server", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    found = ServiceProcess("board", port, proc, log_path)
    try:
        await wait_until_live(found.url, proc)
        yield found
    finally:
        found.stop()


@pytest.fixture
def ws_client(issuer: TokenIssuer) -> Callable[..., Any]:
    """``async with ws_client(proc, "/probe/ws/room") as client``: an authenticated socket."""

    @asynccontextmanager
    async def open_client(
        proc: ServiceProcess, path: str, *, token: str | None = None, query: str = ""
    ) -> AsyncIterator[Client]:
        url = f"{proc.ws_url}{path}?token={token or issuer.token()}{query}"
        async with connect(url, max_size=None, open_timeout=10) as ws:
            yield Client(ws)

    return open_client
