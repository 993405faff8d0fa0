"""The gateway under test: real ``wealist serve`` processes (user, chat, noti, storage,
ops) behind a real nginx running ``deploy/nginx``, shared by the module's tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.plugins.harness import Environment, ServiceProcess, start_service
from wealist.contracts.addresses import DEFAULT_PORTS
from wealist.devstack.gateway import Gateway, find_nginx
from wealist.devstack.servers import free_port

SERVICES = ("user", "chat", "noti", "storage", "ops")


@dataclass
class Stack:
    gateway: Gateway
    processes: dict[str, ServiceProcess]

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def ws_url(self) -> str:
        return self.gateway.url.replace("http://", "ws://", 1)


@pytest.fixture(scope="module")
async def stack(environment: Environment) -> AsyncIterator[Stack]:
    if find_nginx() is None:
        pytest.fail("nginx is not installed: apt-get install nginx-light (.ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="wealist-gateway-"))
    logs = root / "service-logs"
    logs.mkdir()
    processes: dict[str, ServiceProcess] = {}
    gateway: Gateway | None = None
    try:
        for name in SERVICES:
            processes[name] = await start_service(environment, name, logs)
        closed = f"127.0.0.1:{free_port()}"
        upstreams = {
            name: [f"127.0.0.1:{processes[name].port}"] if name in processes else [closed]
            for name in DEFAULT_PORTS
        }
        gateway = Gateway(root / "nginx", upstreams)
        gateway.start()
        yield Stack(gateway, processes)
    finally:
        if gateway is not None:
            gateway.stop()
        for found in processes.values():
            found.stop()
        shutil.rmtree(root, ignore_errors=True)
