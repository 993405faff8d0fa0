"""The shipped configuration itself: nginx accepts it as it is in deploy/nginx, the edge
limits are the ones the reliability scenarios ask for, and a gateway whose services are
down answers for itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from wealist.devstack.gateway import CONFIG_DIR, Gateway, find_nginx, upstreams_conf


def directive(name: str) -> list[str]:
    text = "\n".join(p.read_text() for p in sorted(CONFIG_DIR.glob("*.conf")))
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.MULTILINE)


def test_nginx_accepts_the_files_as_shipped() -> None:
    nginx = find_nginx()
    assert nginx is not None, "nginx is not installed: apt-get install nginx-light"
    prefix = Path(tempfile.mkdtemp(prefix="wealist-nginx-t-"))
    try:
        for source in CONFIG_DIR.glob("*.conf"):
            shutil.copyfile(source, prefix / source.name)
        (prefix / "logs").mkdir()
        (prefix / "tmp").mkdir()
        done = subprocess.run(
            [nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def test_edge_limits_match_the_scenarios() -> None:
    # T34: slow headers, bodies and readers are cut within 10 s
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert directive(name) == ["10s"], name
    # T31: 1 MiB by default (the services' own limit), 100 MB on storage routes only
    assert sorted(directive("client_max_body_size")) == ["100m", "1m"]
    assert directive("server_tokens") == ["off"]
    assert directive("proxy_request_buffering") == ["on"]
    assert any("wealist_conn" in d for d in directive("limit_conn"))
    assert directive("limit_req_status") == ["429"]


def test_upstreams_are_rendered_per_replica() -> None:
    text = upstreams_conf({"chat": ["127.0.0.1:1", "127.0.0.1:2"]})
    assert (
        "upstream wealist_chat { server 127.0.0.1:1; server 127.0.0.1:2;"
        " keepalive 32; keepalive_timeout 8s; }"
    ) in text


async def test_with_its_services_down_the_gateway_still_answers(
    gateway: Callable[..., Gateway],
) -> None:
    edge = gateway({})
    async with httpx.AsyncClient(base_url=edge.url) as client:
        health = await client.get("/health")
        assert (health.status_code, health.text) == (200, "healthy\n")
        down = await client.get("/api/users/me")
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert down.json()["requestId"] == down.headers["x-request-id"]
        unknown = await client.get("/wp-login.php")
        assert unknown.status_code == 404
