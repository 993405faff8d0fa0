"""deploy/k8s: rendered (base + each overlay) and every object validated against the
Kubernetes schemas offline; every service has probes, resources, an HPA, a PDB, a
NetworkPolicy, a ServiceMonitor and a grace period longer than its drain."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.kustomize import KustomizeError, build
from tests.deploy.support import DEPLOY, K8S, ROOT, unknown_setting
from wealist.cli import KILL_MARGIN_S
from wealist.services import SERVICES, spec

OVERLAYS = ["dev", "prod"]
# EKS's oldest supported minor and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.30", kubernetes_validate.latest_version()]
SECRETISH = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL)$")


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, build(K8S / "overlays" / request.param)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = obj["spec"]["template"]["spec"]
    return found


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def env_of(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from container.get("env", [])


def test_the_base_is_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(K8S / "generate.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(
    rendered: tuple[str, list[dict[str, Any]]], version: str
) -> None:
    _, objects = rendered
    checked = 0
    for obj in objects:
        if obj["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a CRD: checked against the operator's fields below
        # strict: an unknown or misspelt field fails too
        kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked == len(objects) - len(SERVICES)  # all but the eight ServiceMonitors


def test_service_monitors_use_the_operator_fields_and_find_their_service(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    services = by_kind(objects, "Service")
    monitors = by_kind(objects, "ServiceMonitor")
    assert set(monitors) == set(SERVICES)
    for name, monitor in monitors.items():
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(monitor["spec"]) <= {"selector", "endpoints", "namespaceSelector", "jobLabel"}
        target = services[name]
        assert selects(monitor["spec"]["selector"], target["metadata"]["labels"])
        port_names = {p["name"] for p in target["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert set(endpoint) <= {"port", "path", "interval", "metricRelabelings"}
            assert endpoint["port"] in port_names
            assert endpoint["path"] == "/metrics"


def test_every_service_has_probes_resources_an_hpa_a_pdb_and_a_network_policy(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    deployments = by_kind(objects, "Deployment")
    services = by_kind(objects, "Service")
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    pdbs = by_kind(objects, "PodDisruptionBudget")
    policies = by_kind(objects, "NetworkPolicy")
    for name in [*SERVICES, "gateway"]:
        deployment = deployments[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        (container,) = pod_spec(deployment)["containers"]
        port = container["ports"][0]
        expected_port = 8088 if name == "gateway" else spec(name).port
        assert port == {"name": "http", "containerPort": expected_port, "protocol": "TCP"}
        ready, live = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
        assert ready["port"] == live["port"] == "http"
        if name != "gateway":
            assert ready["path"] == "/health/ready"
            assert live["path"] == "/health/live"
            assert container["args"] == ["serve", name]
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory"}, (name, kind)
        hpa = hpas[name]["spec"]
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["scaleTargetRef"] == target
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        assert "replicas" not in deployment["spec"]  # the HPA owns the count
        assert selects(pdbs[name]["spec"]["selector"], labels)
        assert selects({"matchLabels": services[name]["spec"]["selector"]}, labels)
        assert selects(policies[name]["spec"]["podSelector"], labels)
        assert pod_spec(deployment)["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_grace_period_outlasts_the_endpoint_delay_the_drain_and_the_kill_margin(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    config = by_kind(objects, "ConfigMap")["wealist-config"]["data"]
    drain = float(config["WEALIST_SHUTDOWN_DRAIN_S"])
    for name, deployment in by_kind(objects, "Deployment").items():
        (container,) = pod_spec(deployment)["containers"]
        command = container["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep"
        pre_stop = float(command[1])
        grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
        if name == "gateway":
            assert grace > pre_stop
            continue
        # After preStop, SIGTERM: the drain, then Granian's kill of a stuck worker.
        assert grace > pre_stop + drain + KILL_MARGIN_S, name


def test_network_policies_admit_only_the_gateway_the_services_and_prometheus(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    policies = by_kind(objects, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    gateway_labels = by_kind(objects, "Deployment")["gateway"]["spec"]["template"]["metadata"][
        "labels"
    ]
    for name in SERVICES:
        rules = policies[name]["spec"]["ingress"]
        peers = [peer for rule in rules for peer in rule["from"]]
        assert all(rule["ports"] == [{"port": "http", "protocol": "TCP"}] for rule in rules)
        same_namespace = [p for p in peers if "namespaceSelector" not in p]
        # The gateway (public routes) and the other services (internal routes, JWKS).
        assert any(selects(p["podSelector"], gateway_labels) for p in same_namespace)
        assert all(
            p["podSelector"]["matchLabels"].get("app.kubernetes.io/part-of") == "wealist"
            for p in same_namespace
        )
        # From another namespace only Prometheus, for /metrics.
        others = [p for p in peers if "namespaceSelector" in p]
        assert [p["podSelector"]["matchLabels"] for p in others] == [
            {"app.kubernetes.io/name": "prometheus"}
        ]
    gateway_rules = policies["gateway"]["spec"]["ingress"]
    (peer,) = [p for rule in gateway_rules for p in rule["from"]]
    ingress_namespace = {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert peer == {"namespaceSelector": {"matchLabels": ingress_namespace}}


def test_no_secret_value_is_in_the_manifests_and_every_secret_is_documented(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    assert not by_kind(objects, "Secret")
    readme = (DEPLOY / "README.md").read_text()
    referenced: set[str] = set()
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        pod = pod_spec(obj)
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                referenced.add(volume["secret"]["secretName"])
        for container in pod["containers"]:
            for env in env_of(container):
                if "valueFrom" in env:
                    ref = env["valueFrom"].get("secretKeyRef")
                    if ref is not None:
                        referenced.add(ref["name"])
                        assert f"`{ref['key']}`" in readme, ref
                    continue
                assert not SECRETISH.search(env["name"]), env  # a value in plain sight
    config = by_kind(objects, "ConfigMap")["wealist-config"]["data"]
    assert not [k for k in config if SECRETISH.search(k)]
    assert referenced >= {f"wealist-{s}" for s in SERVICES} | {"wealist-shared"}
    for name in referenced:
        assert f"`{name}`" in readme, name


def test_every_variable_is_a_real_setting_and_every_database_is_wired(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    config = by_kind(objects, "ConfigMap")["wealist-config"]["data"]
    problems = [p for p in map(unknown_setting, config) if p]
    for obj in [*by_kind(objects, "Deployment").values(), *by_kind(objects, "Job").values()]:
        for container in pod_spec(obj)["containers"]:
            problems += [p for e in env_of(container) if (p := unknown_setting(e["name"]))]
    assert problems == []
    (job,) = by_kind(objects, "Job").values()
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["args"] == ["migrate", "all"]
    wired = {e["name"] for e in env_of(migrate)}
    for name in SERVICES:
        variable = f"WEALIST_{name.upper()}_DATABASE_URL"
        assert variable in wired
        (container,) = pod_spec(by_kind(objects, "Deployment")[name])["containers"]
        assert variable in {e["name"] for e in env_of(container)}
    # Each service finds the others at their Services.
    urls = json.loads(config["WEALIST_SERVICE_URLS"])
    services = by_kind(objects, "Service")
    for name, url in urls.items():
        assert url == f"http://{name}:{services[name]['spec']['ports'][0]['port']}"


def test_the_gateway_reaches_every_upstream_of_deploy_nginx_and_the_ingress_reaches_it(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    upstreams = by_kind(objects, "ConfigMap")["wealist-gateway"]["data"]["upstreams.conf"]
    defined = dict(re.findall(r"upstream (wealist_\w+)\s*\{\s*server ([\w.-]+:\d+);", upstreams))
    used = set()
    for conf in (DEPLOY / "nginx").glob("*.conf"):
        used |= set(re.findall(r"proxy_pass https?://(wealist_\w+)", conf.read_text()))
    assert used
    assert used <= set(defined)
    services = by_kind(objects, "Service")
    for upstream, address in defined.items():
        host, port = address.split(":")
        assert upstream == f"wealist_{host}"
        assert int(port) == services[host]["spec"]["ports"][0]["port"]
    (ingress,) = by_kind(objects, "Ingress").values()
    backends = [
        path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == [{"name": "gateway", "port": {"name": "http"}}]
    images = {
        c["image"]
        for d in by_kind(objects, "Deployment").values()
        for c in pod_spec(d)["containers"]
        if d["metadata"]["name"] != "gateway"
    }
    assert len(images) == 1  # one image for every service


def test_the_renderer_refuses_what_it_does_not_do(tmp_path: Any) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(KustomizeError, match="configMapGenerator"):
        build(tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: []\npatches:\n  - target: {kind: Deployment}\n    patch: '[]'\n"
    )
    with pytest.raises(KustomizeError, match="matches nothing"):
        build(tmp_path)


def test_the_kustomize_files_are_all_used() -> None:
    """No orphan manifest: every YAML under deploy/k8s is a resource of some build."""
    used = {K8S / "base" / "kustomization.yaml"}
    for overlay in OVERLAYS:
        used.add(K8S / "overlays" / overlay / "kustomization.yaml")
    for directory in [K8S / "base", *(K8S / "overlays" / o for o in OVERLAYS)]:
        text = (directory / "kustomization.yaml").read_text()
        used |= {
            directory / n for n in re.findall(r"^\s*-\s*([\w.-]+\.yaml)\s*$", text, re.MULTILINE)
        }
    on_disk = set(K8S.rglob("*.yaml"))
    assert on_disk == used, sorted(str(p.relative_to(ROOT)) for p in on_disk ^ used)
