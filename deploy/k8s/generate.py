"""Writes deploy/k8s/base from one table of per-service facts.

Eight services need the same eight objects each (Deployment, Service, HPA, PDB,
NetworkPolicy, ServiceAccount, ServiceMonitor, and their Secret references); writing them
by hand lets one drift. Edit SERVICES or the builders below, run

    python deploy/k8s/generate.py            # rewrite base/
    python deploy/k8s/generate.py --check    # exit 1 when base/ is not what this writes

and commit both. The overlays (dev, prod) are hand-written kustomize patches on top.
Needs PyYAML only.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BASE = Path(__file__).resolve().parent / "base"
PART_OF = "wealist"
IMAGE = "wealist"  # overlays pin it (kustomize `images`)
GATEWAY_IMAGE = "wealist-gateway"
MONITORING_NAMESPACE = "monitoring"  # where Prometheus runs (its pods scrape /metrics)
INGRESS_NAMESPACE = "ingress-nginx"  # where the ingress controller runs

# Shutdown timing (see deploy/README.md): the pod leaves the endpoints during preStop,
# then SIGTERM starts the drain (WEALIST_SHUTDOWN_DRAIN_S), and Granian kills a worker
# stuck past it after a margin (wealist.cli.KILL_MARGIN_S). The grace period covers all.
PRE_STOP_S = 5
DRAIN_S = 20
GRACE_S = 45


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    cpu: tuple[str, str] = ("100m", "1")  # request, limit
    memory: tuple[str, str] = ("192Mi", "512Mi")
    replicas: tuple[int, int] = (2, 10)  # HPA min, max
    # Secret keys of wealist-<name> beyond database-url: env var -> key (optional ones
    # may be absent from the Secret).
    secrets: dict[str, str] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    files: dict[str, str] = field(default_factory=dict)  # env var (…_FILE) -> key, mounted
    sockets: bool = False  # holds WebSockets or SSE streams: scale in slowly


SERVICES = [
    Service(
        "auth",
        8080,
        cpu=("200m", "1"),
        secrets={
            "WEALIST_AUTH_GOOGLE_CLIENT_ID": "google-client-id",
            "WEALIST_AUTH_GOOGLE_CLIENT_SECRET": "google-client-secret",
        },
        optional=frozenset({"google-client-id", "google-client-secret"}),
        files={"WEALIST_AUTH_JWT_PRIVATE_KEY_FILE": "jwt-private-key"},
    ),
    Service("user", 8081),
    Service("board", 8000, cpu=("200m", "1"), memory=("256Mi", "768Mi"), sockets=True),
    Service(
        "chat", 8001, cpu=("200m", "1"), memory=("256Mi", "768Mi"), replicas=(2, 20), sockets=True
    ),
    Service(
        "noti",
        8002,
        memory=("256Mi", "768Mi"),
        replicas=(2, 20),
        secrets={"WEALIST_NOTI_SMTP_PASSWORD": "smtp-password"},
        optional=frozenset({"smtp-password"}),
        sockets=True,
    ),
    Service("storage", 8003),
    Service(
        "video",
        8004,
        secrets={
            "WEALIST_VIDEO_LIVEKIT_API_KEY": "livekit-api-key",
            "WEALIST_VIDEO_LIVEKIT_API_SECRET": "livekit-api-secret",
            "WEALIST_VIDEO_TURN_SECRET": "turn-secret",
        },
    ),
    Service("ops", 8005, replicas=(2, 4)),
]

# Settings every service shares (non-secret): the ConfigMap wealist-config.
CONFIG = {
    "WEALIST_PROFILE": "prod",
    "WEALIST_HOST": "0.0.0.0",  # noqa: S104  # inside the pod; NetworkPolicy guards it
    "WEALIST_LOG_FORMAT": "json",
    "WEALIST_LOG_LEVEL": "info",
    "WEALIST_WORKERS": "1",  # one Granian worker per pod: Kubernetes scales pods
    "WEALIST_SHUTDOWN_DRAIN_S": str(DRAIN_S),
    "WEALIST_JWKS_URL": "http://auth:8080/.well-known/jwks.json",
    "WEALIST_USER_SERVICE_URL": "http://user:8081",
    "WEALIST_SERVICE_URLS": json.dumps({s.name: f"http://{s.name}:{s.port}" for s in SERVICES}),
    "WEALIST_CORS_ORIGINS": "https://wealist.example.com",
    "WEALIST_S3_BUCKET": "wealist",
    "WEALIST_S3_REGION": "us-east-1",
    "WEALIST_AUTH_PUBLIC_URL": "https://wealist.example.com",
    "WEALIST_AUTH_OAUTH_CALLBACK_URL": "https://wealist.example.com/oauth2/callback/{provider}",
    "WEALIST_AUTH_OAUTH_REDIRECT_ALLOWLIST": "https://wealist.example.com/oauth/callback",
    "WEALIST_OPS_PROMETHEUS_URL": "http://prometheus-operated.monitoring:9090",
}
# Secret values every service reads, from the Secret wealist-shared.
SHARED_SECRETS = {
    "WEALIST_REDIS_URL": "redis-url",
    "WEALIST_INTERNAL_API_KEY": "internal-api-key",
}


def labels(name: str, component: str = "service") -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/component": component,
    }


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def secret_env(env: str, secret: str, key: str, *, optional: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": env, "valueFrom": {"secretKeyRef": ref}}


def database_env(service: Service) -> dict[str, Any]:
    env = f"WEALIST_{service.name.upper()}_DATABASE_URL"
    return secret_env(env, f"wealist-{service.name}", "database-url")


def pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def deployment(service: Service) -> dict[str, Any]:
    name = service.name
    env = [database_env(service)]
    env += [secret_env(e, "wealist-shared", k) for e, k in SHARED_SECRETS.items()]
    env += [
        secret_env(e, f"wealist-{name}", k, optional=k in service.optional)
        for e, k in service.secrets.items()
    ]
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if service.files:
        env += [
            {"name": e, "value": f"/var/run/secrets/wealist/{k}"} for e, k in service.files.items()
        ]
        mounts.append({"name": "keys", "mountPath": "/var/run/secrets/wealist", "readOnly": True})
        items = [{"key": k, "path": k} for k in service.files.values()]
        volumes.append(
            {
                "name": "keys",
                "secret": {"secretName": f"wealist-{name}", "items": items, "defaultMode": 0o400},
            }
        )
    probe = {"port": "http", "scheme": "HTTP"}
    container = {
        "name": name,
        "image": IMAGE,
        "args": ["serve", name],
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": "wealist-config"}}],
        "env": env,
        "resources": {
            "requests": {"cpu": service.cpu[0], "memory": service.memory[0]},
            "limits": {"cpu": service.cpu[1], "memory": service.memory[1]},
        },
        "startupProbe": {
            "httpGet": {"path": "/health/live", **probe},
            "periodSeconds": 2,
            "timeoutSeconds": 2,
            "failureThreshold": 30,
        },
        "readinessProbe": {
            "httpGet": {"path": "/health/ready", **probe},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health/live", **probe},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        # The endpoint removal reaches the gateway and kube-proxy while the pod still
        # serves; then SIGTERM drains it (1012 to sockets, streams end, requests finish).
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRE_STOP_S)]}}},
        "securityContext": container_security(),
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": GRACE_S,
                    "securityContext": pod_security(),
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector(name)},
                        }
                    ],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service_object(name: str, port: int, target: str = "http", component: str = "service") -> Any:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels(name, component)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name),
            "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}],
        },
    }


def hpa(name: str, bounds: tuple[int, int], *, slow_scale_in: bool) -> dict[str, Any]:
    # Scaling in closes sockets (they resume elsewhere, but all at once is a storm).
    scale_down = {
        "stabilizationWindowSeconds": 600 if slow_scale_in else 300,
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120 if slow_scale_in else 60}],
    }
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": bounds[0],
            "maxReplicas": bounds[1],
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
            "behavior": {"scaleDown": scale_down},
        },
    }


def pdb(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(name)}},
    }


def network_policy(service: Service) -> dict[str, Any]:
    """Who may reach a service's port: the gateway (public routes; it blocks internal
    ones), the other services (internal routes, JWKS) and Prometheus (/metrics)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": service.name, "labels": labels(service.name)},
        "spec": {
            "podSelector": {"matchLabels": selector(service.name)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"podSelector": {"matchLabels": selector("gateway")}},
                        {
                            "podSelector": {
                                "matchLabels": {
                                    "app.kubernetes.io/part-of": PART_OF,
                                    "app.kubernetes.io/component": "service",
                                }
                            }
                        },
                    ],
                    "ports": [{"port": "http", "protocol": "TCP"}],
                },
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}
                            },
                            "podSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "prometheus"}
                            },
                        }
                    ],
                    "ports": [{"port": "http", "protocol": "TCP"}],
                },
            ],
        },
    }


def service_account(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "labels": labels(name)},
        "automountServiceAccountToken": False,
    }


def service_monitor(name: str) -> dict[str, Any]:
    """Prometheus Operator: scrape the pods' /metrics (the gateway never serves it)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "selector": {"matchLabels": labels(name)},
            "endpoints": [
                {
                    "port": "http",
                    "path": "/metrics",
                    "interval": "15s",
                    # As deploy/monitoring/prometheus.yml: the service name as a label.
                    "metricRelabelings": [
                        {
                            "sourceLabels": ["__name__"],
                            "regex": "(auth|user|board|chat|noti|storage|video|ops)_service_.+",
                            "targetLabel": "service",
                            "replacement": "$1",
                            "action": "replace",
                        }
                    ],
                }
            ],
        },
    }


def service_documents(service: Service) -> list[dict[str, Any]]:
    return [
        service_account(service.name),
        deployment(service),
        service_object(service.name, service.port),
        hpa(service.name, service.replicas, slow_scale_in=service.sockets),
        pdb(service.name),
        network_policy(service),
        service_monitor(service.name),
    ]


def shared_documents() -> list[dict[str, Any]]:
    default_deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "default-deny-ingress",
            "labels": {"app.kubernetes.io/part-of": PART_OF},
        },
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "wealist-config", "labels": {"app.kubernetes.io/part-of": PART_OF}},
        "data": CONFIG,
    }
    return [config, default_deny]


def migrate_job() -> dict[str, Any]:
    """`wealist migrate all` once per release. Services refuse to start on a database
    behind their migrations, so they wait (crash-loop) until it succeeded. Jobs are
    immutable: it deletes itself after an hour and the next apply creates it again."""
    env = [database_env(s) for s in SERVICES]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "wealist-migrate", "labels": labels("migrate", "migration")},
        "spec": {
            "backoffLimit": 4,
            "activeDeadlineSeconds": 900,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": labels("migrate", "migration")},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(),
                    "containers": [
                        {
                            "name": "migrate",
                            "image": IMAGE,
                            "args": ["migrate", "all"],
                            "envFrom": [{"configMapRef": {"name": "wealist-config"}}],
                            "env": env,
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            "securityContext": container_security(),
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}],
                },
            },
        },
    }


def upstreams_conf() -> str:
    lines = ["# Where each service listens: its Service (kube-proxy spreads the connections)."]
    lines += [
        f"upstream wealist_{s.name} {{ server {s.name}:{s.port}; keepalive 32; keepalive_timeout 8s; }}" for s in SERVICES
    ]
    return "\n".join(lines) + "\n"


def gateway_documents() -> list[dict[str, Any]]:
    name = "gateway"
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "wealist-gateway", "labels": labels(name, "gateway")},
        "data": {"upstreams.conf": upstreams_conf(), "listen.conf": "listen 8088;\n"},
    }
    container = {
        "name": name,
        "image": GATEWAY_IMAGE,
        "ports": [{"name": "http", "containerPort": 8088, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "1", "memory": "256Mi"},
        },
        "readinessProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        # nginx finishes requests and lets sockets run until the grace period ends;
        # the services behind it tell their sockets to reconnect when they stop.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRE_STOP_S)]}}},
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108
            {"name": "config", "mountPath": "/etc/wealist-gateway.d", "readOnly": True},
        ],
    }
    deployment_ = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name, "gateway")},
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": labels(name, "gateway")},
                "spec": {
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": GRACE_S,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 101,  # nginx in the official image
                        "runAsGroup": 101,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                        {"name": "config", "configMap": {"name": "wealist-gateway"}},
                    ],
                },
            },
        },
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": labels(name, "gateway")},
        "spec": {
            "podSelector": {"matchLabels": selector(name)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": INGRESS_NAMESPACE}
                            }
                        }
                    ],
                    "ports": [{"port": "http", "protocol": "TCP"}],
                }
            ],
        },
    }
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "wealist",
            "labels": labels(name, "gateway"),
            "annotations": {
                # WebSockets and SSE live long; uploads are large (the gateway limits per route).
                "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
                "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
                "nginx.ingress.kubernetes.io/proxy-buffering": "off",
                "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
            },
        },
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["wealist.example.com"], "secretName": "wealist-tls"}],
            "rules": [
                {
                    "host": "wealist.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }
    return [
        config,
        deployment_,
        service_object(name, 80, component="gateway"),
        hpa(name, (2, 6), slow_scale_in=True),
        pdb(name),
        policy,
        ingress,
    ]


def render() -> dict[str, str]:
    """File name -> YAML text of every file of base/."""
    header = "# Generated by deploy/k8s/generate.py: edit that, then run it.\n"

    def dump(documents: list[dict[str, Any]]) -> str:
        return header + yaml.safe_dump_all(documents, sort_keys=False, width=100)

    files = {f"{s.name}.yaml": dump(service_documents(s)) for s in SERVICES}
    files["gateway.yaml"] = dump(gateway_documents())
    files["shared.yaml"] = dump(shared_documents())
    files["migrate-job.yaml"] = dump([migrate_job()])
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(files),
    }
    files["kustomization.yaml"] = header + yaml.safe_dump(kustomization, sort_keys=False)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        stale = [n for n, text in files.items() if _read(BASE / n) != text]
        extra = [p.name for p in BASE.glob("*.yaml") if p.name not in files]
        for name in stale + extra:
            sys.stderr.write(f"deploy/k8s/base/{name} is not what generate.py writes\n")
        return 1 if stale or extra else 0
    BASE.mkdir(exist_ok=True)
    for name, text in files.items():
        (BASE / name).write_text(text)
    return 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())
