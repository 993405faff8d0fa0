"""A fake Loki (a real HTTP server on a thread): Loki cannot run here. It answers
``query_range`` with the lines it holds and label values, and records every query so
tests can check the LogQL the ops service sends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


class FakeLoki:
    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.streams: list[dict[str, Any]] = []
        self.services = ["board", "chat"]
        self.status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.queries.append({"path": url.path, **params})
                if url.path == "/loki/api/v1/query_range":
                    body: Any = {
                        "status": "success",
                        "data": {"resultType": "streams", "result": fake.streams},
                    }
                elif url.path.startswith("/loki/api/v1/label/"):
                    body = {"status": "success", "data": fake.services}
                else:
                    body = {"status": "error"}
                raw = json.dumps(body).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_loki() -> Iterator[FakeLoki]:
    found = FakeLoki()
    try:
        yield found
    finally:
        found.close()
