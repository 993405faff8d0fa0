"""Idle SSE streams on one noti process: memory per stream and broker subscriptions.

Starts throwaway PostgreSQL and Redis, a JWKS endpoint, and ``wealist serve noti``; opens
N streams (default 5,000, one user each: the worst case for subscriptions), each read up to
its ``connected`` event and then left idle. Reports the process tree's RSS before and after
(per stream), the Redis pub/sub connections the process holds (the original held one per
stream) and the channels on them, and checks that a notification still reaches a stream.

Run: ``python bench/bench_noti_streams.py [streams]`` (about a minute on 2 cores).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from redis import Redis

from wealist.contracts.keys import REVOCATIONS_LOADED
from wealist.core.context import service_migrations
from wealist.core.db.migrate import ensure_database, migrate
from wealist.core.settings import with_database
from wealist.devstack.servers import PostgresServer, RedisServer, free_port
from wealist.services import spec

STREAMS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
OPEN_AT_ONCE = 50
RETRIES = {"count": 0}  # opens refused for a moment under the storm, then retried
KEY = "bench-internal-key-0123456789abcdef"
ISSUER = "wealist-auth-service"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwks_server(key: rsa.RSAPrivateKey) -> tuple[ThreadingHTTPServer, str]:
    numbers = key.public_key().public_numbers()
    body = json.dumps(
        {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": "k1",
                    "alg": "RS256",
                    "use": "sig",
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                }
            ]
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"


def token(key: rsa.RSAPrivateKey, user_id: str) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iss": ISSUER,
        "aud": "wealist-api",
        "iat": now,
        "exp": now + 3600,
        "type": "access",
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def tree_rss_kib(pid: int) -> int:
    """RSS of a process and its children (Granian runs the app in a worker process)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        status = Path(f"/proc/{current}/status").read_text()
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            todo += [int(c) for c in children.read_text().split()]
    return total


async def open_stream(port: int, bearer: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """One stream read up to ``connected``; retried like a browser's EventSource would."""
    for attempt in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/notifications/stream?token={bearer} HTTP/1.1\r\nHost: bench\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        seen = b""
        while b"event: connected" not in seen and b"\r\n\r\n{" not in seen:
            chunk = await asyncio.wait_for(reader.read(4096), 60)
            if not chunk:
                break
            seen += chunk
        if b"event: connected" in seen:
            return reader, writer
        writer.close()
        RETRIES["count"] += 1
        await asyncio.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"stream refused: {seen[-300:]!r}")


async def run(port: int, pid: int, redis_url: str, key: rsa.RSAPrivateKey) -> None:
    users = [str(uuid.uuid4()) for _ in range(STREAMS)]
    tokens = [token(key, u) for u in users]
    warm = await open_stream(port, tokens[0])  # one stream: imports, pools, broker connected
    await asyncio.sleep(1)
    before = tree_rss_kib(pid)
    streams = [warm]
    started = time.perf_counter()
    for start in range(1, STREAMS, OPEN_AT_ONCE):
        batch = tokens[start : start + OPEN_AT_ONCE]
        streams += await asyncio.gather(*(open_stream(port, t) for t in batch))
    opened_s = time.perf_counter() - started
    await asyncio.sleep(3)  # idle: let allocations settle
    after = tree_rss_kib(pid)

    with Redis.from_url(redis_url) as redis:
        pubsub = [
            line
            for line in redis.execute_command("CLIENT", "LIST", "TYPE", "pubsub")
            .decode()
            .splitlines()
            if line.strip()
        ]
        channels = sum(
            int(part.split("=")[1])
            for line in pubsub
            for part in line.split()
            if part.startswith("sub=")
        )

    # A notification to the last user still arrives on its idle stream.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        sent = time.perf_counter()
        response = await client.post(
            "/api/internal/notifications",
            headers={"x-internal-api-key": KEY},
            json={
                "type": "BOARD_ASSIGNED",
                "actorId": str(uuid.uuid4()),
                "targetUserId": users[-1],
                "workspaceId": str(uuid.uuid4()),
                "resourceType": "board",
                "resourceId": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 201, response.text
        reader, _ = streams[-1]
        got = b""
        while b"event: notification" not in got:
            got += await asyncio.wait_for(reader.read(4096), 30)
        delivered_ms = (time.perf_counter() - sent) * 1000

    for _, writer in streams:
        writer.close()
    print(
        f"streams open:              {len(streams)} (opened in {opened_s:.1f} s,"
        f" {RETRIES['count']} opens retried)"
    )
    print(f"process tree RSS:          {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB")
    print(f"memory per idle stream:    {(after - before) / (len(streams) - 1):.1f} KiB")
    print(f"pub/sub connections:       {len(pubsub)} (the original: one per stream)")
    print(f"channels subscribed:       {channels} (one per user with an open stream)")
    print(f"delivery to an idle stream: {delivered_ms:.0f} ms (one sample, not a benchmark)")


def main() -> None:
    pg_root = Path(tempfile.mkdtemp(prefix="bench-noti-pg-"))
    redis_root = Path(tempfile.mkdtemp(prefix="bench-noti-redis-"))
    pg = PostgresServer(pg_root, durable=False)
    redis = RedisServer(redis_root, durable=False)
    pg.start()
    redis.start()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks, jwks_url = jwks_server(key)
    proc: subprocess.Popen[bytes] | None = None
    try:
        db_url = with_database(pg.url, "noti_db")
        asyncio.run(ensure_database(pg.url, "noti_db"))
        asyncio.run(migrate(db_url, service_migrations(spec("noti"))))
        with Redis.from_url(redis.url) as client:
            client.set(REVOCATIONS_LOADED, "1")
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WEALIST_")},
            "WEALIST_NOTI_DATABASE_URL": db_url,
            "WEALIST_REDIS_URL": redis.url,
            "WEALIST_JWKS_URL": jwks_url,
            "WEALIST_JWT_ISSUER": ISSUER,
            "WEALIST_INTERNAL_API_KEY": KEY,
            "WEALIST_LOG_LEVEL": "warning",
            "WEALIST_OUTBOX_RELAY": "false",
        }
        # Granian as ``wealist serve noti`` runs it, but admitting more concurrent requests
        # than its default (backlog / workers = 1024): every open stream is one.
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--loop",
                "uvloop",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--backlog",
                "8192",
                "--backpressure",
                str(STREAMS + 512),
                "--no-log",
                "wealist.noti.asgi:create_app",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("noti did not start")
            time.sleep(0.2)
        asyncio.run(run(port, proc.pid, redis.url, key))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        jwks.shutdown()
        redis.stop()
        pg.stop("immediate")
        shutil.rmtree(pg_root, ignore_errors=True)
        shutil.rmtree(redis_root, ignore_errors=True)


if __name__ == "__main__":
    main()
