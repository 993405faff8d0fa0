"""deploy/monitoring as CI checks it: ``promtool check config``, ``check rules`` and the
rules' unit tests (``promtool test rules``), and Grafana dashboards whose every query is
valid PromQL and that are what ``grafana/build.py`` writes."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tests.plugins.prometheus import MONITORING, binary
from wealist.contracts.addresses import DEFAULT_PORTS

DASHBOARDS = MONITORING / "grafana" / "dashboards"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("promtool"), *args],
        capture_output=True,
        text=True,
        cwd=MONITORING,
        check=False,
        timeout=120,
    )


def test_promtool_check_config() -> None:
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 rule files found" in done.stdout


def test_promtool_check_rules() -> None:
    rules = sorted(str(p.relative_to(MONITORING)) for p in (MONITORING / "rules").glob("*.yml"))
    done = promtool("check", "rules", *rules)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_test_rules() -> None:
    done = promtool("test", "rules", "tests/wealist.rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_service_has_a_scrape_job_with_the_service_label() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {f"wealist-{s}" for s in DEFAULT_PORTS} | {"wealist-all"}
    for name, job in jobs.items():
        relabel = job["metric_relabel_configs"]
        assert relabel[0]["target_label"] == "service", name
        for svc in DEFAULT_PORTS:
            assert f"|{svc}|" in "|" + relabel[0]["regex"].split(")")[0].lstrip("(") + "|"
    for svc, port in DEFAULT_PORTS.items():  # the defaults: the services' own ports
        targets = json.loads((MONITORING / "targets" / f"{svc}.json").read_text())
        assert targets[0]["targets"] == [f"127.0.0.1:{port}"]


def test_alerts_cover_what_the_issue_asks_for() -> None:
    rules = yaml.safe_load((MONITORING / "rules" / "wealist.alerts.yml").read_text())
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    assert {
        "WealistLatencyP99High",
        "WealistHighErrorRatio",
        "WealistErrorBudgetFastBurn",
        "WealistWebSocketsDropped",
        "WealistSSEStreamsDropped",
        "WealistOutboxLag",
        "WealistDbPoolSaturated",
    } <= alerts


def test_dashboards_are_built_and_every_query_parses() -> None:
    built = subprocess.run(
        [sys.executable, str(MONITORING / "grafana" / "build.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    names = {p.name for p in DASHBOARDS.glob("*.json")}
    assert names == {f"{s}.json" for s in DEFAULT_PORTS} | {"realtime.json"}
    exprs: list[str] = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        assert board["uid"] and board["panels"]
        exprs += [t["expr"] for p in board["panels"] for t in p["targets"]]
    # promtool parses recording rules: one per dashboard query
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [{"record": f"dashboard:q{i}", "expr": e} for i, e in enumerate(exprs)],
            }
        ]
    }
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "dashboards.yml"
        path.write_text(yaml.safe_dump(rules))
        done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(exprs)} rules found" in done.stdout
