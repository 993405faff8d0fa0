"""``wealist up``: the whole stack from nothing, stopped, then started again on the same data.

A real run: ``python -m wealist up`` in a subprocess with no ``WEALIST_*`` settings except
the service ports, so it starts its own PostgreSQL and Redis under the data dir (never the
system ones on 5432/6379).
"""

from __future__ import annotations

import signal
import stat
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import redis

from tests.devstack.support import Up, assert_all_ready, service_ports
from wealist.core.settings import with_database
from wealist.devstack.servers import port_open
from wealist.services import SERVICES

pytestmark = pytest.mark.slow


def test_up_starts_everything_stops_cleanly_and_keeps_its_data(data_dir: Path) -> None:
    ports = service_ports()

    first = Up(data_dir, ports, "--exit-after", "600")
    try:
        first.wait_ready()
        pg_url = first.table("postgres")
        redis_url = first.table("redis")
        state = first.state()
        assert urlsplit(pg_url).port == state["postgres_port"] != 5432
        assert urlsplit(redis_url).port == state["redis_port"] != 6379
        assert f"postgres: started on 127.0.0.1:{state['postgres_port']}" in first.output
        gateway = first.table("gateway")  # nginx is installed here (.ci/run installs it)
        assert gateway == f"http://127.0.0.1:{state['gateway_port']}"
        with httpx.Client(base_url=gateway, timeout=5.0) as edge:
            assert edge.get("/health").text == "healthy\n"
            assert edge.get("/api/svc/ops/api/config/active").json()["success"] is True
            assert edge.get("/api/internal/users/x/exists").status_code == 404
            # browsers are sent to auth through the gateway: discovery names its URL
            config = edge.get("/.well-known/openid-configuration").json()
            assert config["jwks_uri"] == f"{gateway}/.well-known/jwks.json"
            assert edge.get(config["jwks_uri"]).json()["keys"]
        for name, port in ports.items():
            assert first.table(name) == f"http://127.0.0.1:{port}"
            assert f"{name}: starting on :{port}" in first.output
        assert (data_dir / "postgres" / "data" / "PG_VERSION").exists()
        key = data_dir / "keys" / "jwt-private.pem"
        first_key = key.read_text()
        assert first_key.startswith("-----BEGIN PRIVATE KEY-----")
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE((data_dir / "state.json").stat().st_mode) == 0o600
        assert len(str(state["internal_api_key"])) >= 32

        assert_all_ready(ports)
        with psycopg.connect(with_database(pg_url, "user_db"), autocommit=True) as conn:
            conn.execute("CREATE TABLE up_probe (x int)")
            conn.execute("INSERT INTO up_probe VALUES (42)")
        with redis.Redis.from_url(redis_url) as client:
            client.set("up_probe", "kept")

        first.proc.send_signal(signal.SIGINT)
        assert first.wait_exit() == 0, first.output
        assert "postgres: stopped" in first.output
        assert not [port for port in first.all_ports() if port_open(port)]
    finally:
        first.cleanup()
    logs = data_dir / "logs"
    first_logs = {name: (logs / f"{name}.log").read_text() for name in SERVICES}
    for name, text in first_logs.items():
        assert text.startswith("===== wealist up "), text[:200]
        assert f": {name} starting =====\nwealist serve {name}: " in text

    second = Up(data_dir, ports, "--exit-after", "20")
    try:
        second.wait_ready()
        assert second.table("postgres") == pg_url
        assert second.table("redis") == redis_url
        assert f"(data in {data_dir / 'postgres'})" in second.output
        assert key.read_text() == first_key
        assert second.state() == state

        assert_all_ready(ports)
        for name, text in first_logs.items():  # the last run's logs are kept, not truncated
            assert (logs / f"{name}.log.1").read_text() == text
            assert (logs / f"{name}.log").read_text().startswith("===== wealist up ")
        with psycopg.connect(with_database(pg_url, "user_db")) as conn:
            assert conn.execute("SELECT x FROM up_probe").fetchall() == [(42,)]
        with redis.Redis.from_url(redis_url) as client:
            assert client.get("up_probe") == b"kept"

        assert second.wait_exit() == 0, second.output  # --exit-after stops it by itself
        assert "--exit-after 20: stopping" in second.output
        assert not [port for port in second.all_ports() if port_open(port)]
    finally:
        second.cleanup()


def test_up_without_nginx_stops_before_starting_anything(data_dir: Path, tmp_path: Path) -> None:
    """The original frontend talks to the gateway: no nginx is a stop naming the package
    (``--no-gateway`` runs the services alone), before any server starts."""
    empty = tmp_path / "no-programs"
    empty.mkdir()
    up = Up(data_dir, service_ports(), env={"WEALIST_SYSTEM_PATH": str(empty)})
    assert up.wait_exit() == 1
    assert "nginx is not installed (the gateway): run apt-get install -y nginx-light" in up.output
    assert "postgres: started" not in up.output and "starting on" not in up.output
