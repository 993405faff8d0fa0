"""deploy/docker: no Docker engine here, so the Dockerfile is parsed and checked (stages,
non-root user, health checks, exec-form entrypoint, pinned bases, every COPY source in
the build context), and the two scripts the image runs are run for real: the health
check against a ``wealist serve`` process, the gateway entrypoint with nginx."""

from __future__ import annotations

import fnmatch
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.core.realtime.waiting import eventually
from tests.deploy.support import DEPLOY, ROOT
from wealist.devstack.gateway import find_nginx
from wealist.devstack.servers import free_port, port_open

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
sys.path.insert(0, str(DEPLOY / "docker"))
import healthcheck  # noqa: E402  # the image's script, imported as the image runs it


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse(text: str) -> list[Stage]:
    """Instructions per stage (continuation lines joined, comments dropped)."""
    stages: list[Stage] = []
    logical = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            base, _, alias = args.partition(" AS ")
            stages.append(Stage(base.strip(), alias.strip()))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())


def excluded(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` out of the context (last match wins)."""
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        rule = pattern.removeprefix("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, rule) for p in prefixes) or fnmatch.fnmatchcase(
            path, rule.replace("**/", "*")
        ):
            verdict = not negate
    return verdict


def test_one_multi_stage_image_whose_default_is_the_non_root_runtime(stages: list[Stage]) -> None:
    assert [s.name for s in stages] == ["build", "gateway", "runtime"]
    runtime = stages[-1]  # `docker build` without --target builds the last stage
    (user,) = runtime.all("USER")
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    assert runtime.all("ENTRYPOINT") == ['["wealist"]']
    assert runtime.all("CMD") == ['["serve", "all"]']
    (check,) = runtime.all("HEALTHCHECK")
    assert 'CMD ["python", "/opt/wealist/healthcheck.py"]' in check
    assert runtime.all("STOPSIGNAL") == ["SIGTERM"]  # the drain starts on it
    assert any("--from=build /opt/wealist" in c for c in runtime.all("COPY"))
    assert not any("pip" in r for r in runtime.all("RUN"))  # nothing built in the final stage
    gateway = stages[1]
    assert gateway.all("HEALTHCHECK")
    assert gateway.all("ENTRYPOINT") == ['["/usr/local/bin/wealist-gateway"]']


def test_bases_are_pinned_and_match_the_supported_python(stages: list[Stage]) -> None:
    text = DOCKERFILE.read_text()
    version = re.search(r"ARG PYTHON_VERSION=(\d+\.\d+)", text)
    assert version is not None
    pyproject = (ROOT / "pyproject.toml").read_text()
    minimum = re.search(r'requires-python = ">=(\d+\.\d+)"', pyproject)
    assert minimum is not None
    assert tuple(map(int, version.group(1).split("."))) >= tuple(
        map(int, minimum.group(1).split("."))
    )
    for stage in stages:
        image, _, tag = stage.base.partition(":")
        assert tag, f"{image} has no tag"
        assert "latest" not in tag


def test_every_copy_source_is_in_the_build_context(stages: list[Stage]) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for stage in stages:
        for args in stage.all("COPY"):
            if args.startswith("--from"):
                continue
            parts = [p for p in args.split() if not p.startswith("--")]
            sources += parts[:-1]
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            if "__pycache__" in relative:
                continue
            assert not excluded(relative, patterns), f"{relative} is left out of the context"
    # and what the image must not carry stays out
    for private in (".venv/bin/python", ".git/config", "tests/conftest.py", ".wealist/x"):
        assert excluded(private, patterns), private


def test_the_health_check_finds_the_port_from_the_command_line() -> None:
    assert healthcheck.target(["python", "wealist", "migrate", "all"], {}) is None
    assert healthcheck.target(["/opt/wealist/bin/wealist", "serve", "chat"], {}) == 8001
    assert healthcheck.target(["wealist", "serve", "board", "--port", "9000"], {}) == 9000
    assert healthcheck.target(["wealist", "serve", "board", "--port=9001"], {}) == 9001
    assert healthcheck.target(["wealist", "serve", "noti"], {"WEALIST_NOTI_PORT": "7000"}) == 7000
    assert healthcheck.target(["wealist", "serve", "all"], {"WEALIST_PORT": "7001"}) == 7001
    assert healthcheck.target(["wealist", "serve"], {}) == 8090


async def test_the_health_check_passes_on_a_ready_service_and_fails_once_it_stopped(
    service_process: Callable[..., Any],
) -> None:
    proc = await service_process("ops")
    script = DEPLOY / "docker" / "healthcheck.py"

    def check() -> int:
        return subprocess.run(
            [sys.executable, str(script), str(proc.proc.pid)], check=False, env={}, timeout=30
        ).returncode

    assert check() == 0
    proc.proc.send_signal(signal.SIGTERM)
    proc.proc.wait(60)
    assert check() == 1


async def test_the_gateway_entrypoint_serves_deploy_nginx_with_the_environment_s_files(
    service_process: Callable[..., Any],
) -> None:
    nginx = find_nginx()
    assert nginx, "nginx is not installed: apt-get install nginx-light (.ci/run does)"
    user = await service_process("user")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="wealist-gateway-test-") as scratch:
        overrides = Path(scratch) / "overrides"
        overrides.mkdir()
        (overrides / "listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
        upstreams = (DEPLOY / "compose" / "gateway" / "upstreams.conf").read_text()
        (overrides / "upstreams.conf").write_text(
            re.sub(r"server \w+:\d+;", f"server 127.0.0.1:{user.port};", upstreams)
        )
        Path(scratch).chmod(0o755)  # nginx's workers (nobody, when root) read the prefix
        env = {
            **os.environ,
            "PATH": f"{Path(nginx).parent}:{os.environ['PATH']}",
            "WEALIST_GATEWAY_CONFIG": str(DEPLOY / "nginx"),
            "WEALIST_GATEWAY_OVERRIDES": str(overrides),
            "WEALIST_GATEWAY_PREFIX": str(Path(scratch) / "prefix"),
        }
        gateway = subprocess.Popen(
            ["sh", str(DEPLOY / "docker" / "gateway-entrypoint.sh")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await eventually(lambda: port_open(port) or gateway.poll() is not None, timeout=30)
            assert gateway.poll() is None, gateway.stdout.read() if gateway.stdout else ""
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/health")).text == "healthy\n"
                # A route of the user service, through the override upstream.
                ready = await http.get("/api/svc/user/health/ready")
                assert ready.status_code == 200, ready.text
                assert ready.json()["service"] == "user-service"
                # Internal routes never pass the gateway.
                internal = await http.get("/api/internal/workspaces/x/members/y")
                assert internal.status_code == 404
        finally:
            gateway.send_signal(signal.SIGQUIT)
            gateway.wait(30)
            if gateway.stdout is not None:
                gateway.stdout.close()
