"""The wealist command: routes format, migrate, openapi, settings errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import psycopg
import pytest

from tests.plugins.harness import ROOT, Environment
from wealist.core.context import service_migrations
from wealist.core.settings import with_database
from wealist.services import SERVICES, spec

LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|WS) /\S*$")


def wealist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wealist", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env or dict(os.environ),
        timeout=120,
        check=False,
    )


def test_routes_all_lists_the_health_routes_of_every_service() -> None:
    result = wealist("routes", "all")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    for name in SERVICES:
        for prefix in spec(name).health_prefixes:
            for path in ("/health", "/health/live", "/health/ready"):
                assert f"GET {prefix}{path}" in lines, (name, prefix, path)
    assert "GET /metrics" in lines
    assert not any("{" in line and ":" in line.split("{", 1)[1] for line in lines)  # no {x:str}


def test_routes_of_one_service_and_websocket_lines() -> None:
    result = wealist("routes", "chat")
    assert result.returncode == 0
    assert "GET /api/chats/health/ready" in result.stdout.splitlines()


def test_route_lines_print_websockets_and_plain_path_params() -> None:
    from dataclasses import replace

    from wealist.core.app import build_app, route_lines

    app = build_app(replace(spec("board"), routes="tests.core.probe:ROUTES"), configure_logs=False)
    lines = route_lines(app)
    assert "WS /probe/ws/{room}" in lines
    assert "GET /probe/error/{kind}" in lines
    assert "POST /probe/publish/{room}" in lines


def test_unknown_service_is_refused() -> None:
    result = wealist("routes", "nope")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_openapi_prints_a_document() -> None:
    result = wealist("openapi", "board")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "wealist board"
    assert document["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("WEALIST_BOARD_WORKERS", "lots", "Expected `int`, got `str`"),
        ("WEALIST_BOARD_WORKERS", "0", "Expected `int` >= 1"),
        ("WEALIST_PORT", "70000", "Expected `int` <= 65535"),
        ("WEALIST_BOARD_PORT", "-1", "Expected `int` >= 0"),
        ("WEALIST_BACKLOG", "0", "Expected `int` >= 1"),
        ("WEALIST_CORS_ORIGINS", "*", "'*' is not allowed"),
        ("WEALIST_CORS_ORIGINS", "http://localhost:3000,https://x.example/app", "not an origin"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(variable: str, value: str, says: str) -> None:
    """Stopped before anything starts, with one line and no traceback."""
    result = wealist("serve", "board", env={**os.environ, variable: value})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"wealist serve: {variable}: "), line
    assert says in line, line


def test_settings_accept_every_origin_and_port_that_can_exist() -> None:
    from wealist.board.settings import BoardSettings
    from wealist.core.settings import load_settings

    found = load_settings(
        BoardSettings,
        "board",
        {
            "WEALIST_PORT": "65535",
            "WEALIST_CORS_ORIGINS": "http://localhost:3000,https://app.example.com,http://[::1]:5173",
        },
    )
    assert found.port == 65535
    assert found.cors_origins == [
        "http://localhost:3000",
        "https://app.example.com",
        "http://[::1]:5173",
    ]


@pytest.mark.slow
async def test_migrate_creates_databases_and_is_idempotent(environment: Environment) -> None:
    import uuid

    prefix = f"wlt_cli_{uuid.uuid4().hex[:6]}"
    env = environment.env("user")
    env = {k: v for k, v in env.items() if not k.endswith("_DATABASE_URL")}
    # point every service at its own fresh database name on the test server
    for name in SERVICES:
        env[f"WEALIST_{name.upper()}_DATABASE_URL"] = with_database(
            environment.pg_url, f"{prefix}_{name}"
        )
    async with await psycopg.AsyncConnection.connect(environment.pg_url, autocommit=True) as conn:
        for name in SERVICES:
            await conn.execute(f'CREATE DATABASE "{prefix}_{name}"')
    first = wealist("migrate", "all", env=env)
    assert first.returncode == 0, first.stderr
    assert "user: outbox/0001_outbox.sql" in first.stdout
    second = wealist("migrate", "all", env=env)
    assert second.returncode == 0
    assert second.stdout.count("up to date") == len(SERVICES)
    async with await psycopg.AsyncConnection.connect(environment.pg_url, autocommit=True) as conn:
        for name in SERVICES:
            await conn.execute(f'DROP DATABASE "{prefix}_{name}" WITH (FORCE)')


@pytest.mark.slow
async def test_migrate_creates_missing_service_databases(
    environment: Environment, pg_url: str
) -> None:
    env = {k: v for k, v in environment.env("user").items() if not k.endswith("_DATABASE_URL")}
    result = wealist("migrate", "video", env=env)  # video_db does not exist on the test server yet
    assert result.returncode == 0, result.stderr
    assert "video: created database video_db" in result.stdout
    async with await psycopg.AsyncConnection.connect(with_database(pg_url, "video_db")) as conn:
        cur = await conn.execute("SELECT count(*) FROM wealist_migrations")
        assert (await cur.fetchone()) == (len(service_migrations(spec("video"))),)


def test_keygen_prints_a_key_the_auth_service_accepts() -> None:
    from wealist.auth.keys import load_keyring
    from wealist.auth.settings import AuthSettings

    result = wealist("keygen")
    assert result.returncode == 0, result.stderr
    ring = load_keyring(AuthSettings(jwt_private_key=result.stdout))
    assert ring.private.key_size == 2048 and list(ring.public) == ["wealist-auth-key-1"]


def test_auth_refuses_to_start_without_a_signing_key() -> None:
    from wealist.auth.keys import load_keyring
    from wealist.auth.settings import AuthSettings
    from wealist.core.settings import SettingsError

    with pytest.raises(SettingsError, match="wealist keygen"):
        load_keyring(AuthSettings())
