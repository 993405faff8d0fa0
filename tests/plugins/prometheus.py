"""A real Prometheus running the project's configuration (``deploy/monitoring``).

``prometheus({"ops": [ops_process.port], ...})`` writes the target files of the given
jobs (the other jobs get none), loads ``prometheus.yml`` and its rules with a one-second
scrape and evaluation interval, and starts ``prometheus`` on a free port; it is stopped
after the test. ``promtool`` comes with the same Debian package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.plugins.harness import ROOT
from wealist.devstack.servers import free_port

MONITORING = ROOT / "deploy" / "monitoring"


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install prometheus (.ci/run does)")
    return found


class PrometheusServer:
    def __init__(self, root: Path, targets: dict[str, list[int]]) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        shutil.copytree(MONITORING / "rules", root / "rules")
        (root / "targets").mkdir()
        for job in config["scrape_configs"]:
            name = job["job_name"].removeprefix("wealist-")
            self.set_targets(name, targets.get(name, []))
        (root / "prometheus.yml").write_text(yaml.safe_dump(config))

    def set_targets(self, job: str, ports: list[int]) -> None:
        """Point a job at processes on these ports (file discovery picks it up at once)."""
        entry = [{"targets": [f"127.0.0.1:{p}" for p in ports], "labels": {}}] if ports else []
        path = self.root / "targets" / f"{job}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(entry))
        temporary.replace(path)  # atomic: Prometheus never reads half a file

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            binary("prometheus"),
            f"--config.file={self.root / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        with (self.root / "prometheus.log").open("wb") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"prometheus did not get ready:\n{self.logs()}")

    def logs(self) -> str:
        return (self.root / "prometheus.log").read_text(errors="replace")

    def query(self, promql: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5)
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def prometheus() -> Iterator[Callable[[dict[str, list[int]]], PrometheusServer]]:
    started: list[PrometheusServer] = []

    def start(targets: dict[str, list[int]]) -> PrometheusServer:
        root = Path(tempfile.mkdtemp(prefix="wealist-prometheus-"))
        server = PrometheusServer(root, targets)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
