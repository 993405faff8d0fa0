"""Service-to-service client: the internal key is sent, idempotent calls retry, others don't."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from wealist.core.errors import ServiceUnavailable
from wealist.core.internal import InternalClient
from wealist.devstack.servers import free_port


class Flaky:
    """A real HTTP server that fails the first ``failures`` requests with 503."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: list[tuple[str, str | None]] = []
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                flaky.seen.append((self.command, self.headers.get("x-internal-api-key")))
                status = 503 if len(flaky.seen) <= flaky.failures else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/x"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    server = Flaky(failures=2)
    yield server
    server.close()


async def test_idempotent_requests_retry_and_send_the_key(flaky: Flaky) -> None:
    async with httpx.AsyncClient() as http:
        client = InternalClient(http, "k3y", retries=2, backoff=0.01)
        response = await client.request("GET", flaky.url)
    assert response.status_code == 200
    assert flaky.seen == [("GET", "k3y")] * 3


async def test_non_idempotent_requests_are_sent_once(flaky: Flaky) -> None:
    async with httpx.AsyncClient() as http:
        client = InternalClient(http, "k3y", retries=2, backoff=0.01)
        response = await client.request("POST", flaky.url, json={"a": 1})
    assert response.status_code == 503
    assert len(flaky.seen) == 1


async def test_unreachable_peer_is_service_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        client = InternalClient(http, "k3y", retries=1, backoff=0.01, timeout=1.0)
        with pytest.raises(ServiceUnavailable):
            await client.request("GET", f"http://127.0.0.1:{free_port()}/x")
