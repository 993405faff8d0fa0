"""A real nginx running the project's gateway configuration (``deploy/nginx``).

``await gateway({"user": proc, ...})`` renders the configuration with the given service
processes as upstreams (services left out point at a closed port) and starts nginx on a
free port; it is stopped after the test. The prefix lives under /tmp (as root, nginx's
workers run as ``nobody`` and must reach its temporary files).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wealist.contracts.addresses import DEFAULT_PORTS
from wealist.devstack.gateway import Gateway, find_nginx
from wealist.devstack.servers import free_port


@pytest.fixture
def gateway() -> Iterator[Callable[..., Gateway]]:
    if find_nginx() is None:
        pytest.fail("nginx is not installed: apt-get install nginx-light (.ci/run does)")
    started: list[Gateway] = []
    prefixes: list[Path] = []

    def start(services: dict[str, Any]) -> Gateway:
        closed = f"127.0.0.1:{free_port()}"
        upstreams = {
            name: [f"127.0.0.1:{services[name].port}"] if name in services else [closed]
            for name in DEFAULT_PORTS
        }
        prefix = Path(tempfile.mkdtemp(prefix="wealist-gateway-"))
        prefixes.append(prefix)
        found = Gateway(prefix, upstreams)
        found.start()
        started.append(found)
        return found

    yield start
    for found in started:
        found.stop()
    for prefix in prefixes:
        shutil.rmtree(prefix, ignore_errors=True)
