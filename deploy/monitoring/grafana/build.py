"""Write the Grafana dashboards (one per service, one for real-time delivery) as JSON.

    python deploy/monitoring/grafana/build.py          # rewrite dashboards/*.json
    python deploy/monitoring/grafana/build.py --check  # exit 1 if they are out of date

Stdlib only. Queries use the recording rules of ../rules and the `service` label that
../prometheus.yml adds; the datasource is a dashboard variable, so they import anywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVICES = ("auth", "user", "board", "chat", "noti", "storage", "video", "ops")
EXCLUDED = '/metrics|/schema.*|.*/health(/.*)?'
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def panel(title: str, exprs: list[tuple[str, str]], unit: str, slot: int) -> dict[str, object]:
    return {
        "id": slot + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (slot % 2), "y": 8 * (slot // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(exprs)
        ],
    }


def dashboard(uid: str, title: str, panels: list[dict[str, object]]) -> dict[str, object]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["wealist"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": panels,
    }


def service_dashboard(svc: str) -> dict[str, object]:
    sel = f'service="{svc}"'
    requests = f'{svc}_service_http_requests_total{{endpoint!~"{EXCLUDED}"}}'
    buckets = f'{svc}_service_http_request_duration_seconds_bucket{{endpoint!~"{EXCLUDED}"}}'
    panels = [
        panel(
            "Requests per second by route",
            [(f"sum by (method, endpoint) (rate({requests}[5m]))", "{{method}} {{endpoint}}")],
            "reqps",
            0,
        ),
        panel(
            "Answers by status",
            [(f"sum by (status) (rate({requests}[5m]))", "{{status}}")],
            "reqps",
            1,
        ),
        panel(
            "Latency percentiles",
            [
                (f"service:http_latency_seconds:p50_5m{{{sel}}}", "p50"),
                (f"service:http_latency_seconds:p95_5m{{{sel}}}", "p95"),
                (f"service:http_latency_seconds:p99_5m{{{sel}}}", "p99"),
            ],
            "s",
            2,
        ),
        panel(
            "5xx ratio (SLO: 0.1 %)",
            [
                (f"service:http_error_ratio:rate5m{{{sel}}}", "5m"),
                (f"service:http_error_ratio:rate1h{{{sel}}}", "1h"),
                (f"service:http_error_ratio:rate6h{{{sel}}}", "6h"),
            ],
            "percentunit",
            3,
        ),
        panel(
            "p99 latency by route",
            [
                (
                    f"histogram_quantile(0.99, sum by (endpoint, le) (rate({buckets}[5m])))",
                    "{{endpoint}}",
                )
            ],
            "s",
            4,
        ),
        panel(
            "Database pool",
            [
                (f"sum({svc}_service_db_connections_in_use)", "in use"),
                (f"sum({svc}_service_db_connections_idle)", "idle"),
                (f"sum({svc}_service_db_connections_max)", "max"),
            ],
            "short",
            5,
        ),
        panel(
            "Outbox backlog",
            [
                (f"sum({svc}_service_outbox_pending)", "pending"),
                (f"max({svc}_service_outbox_oldest_pending_age_seconds)", "oldest age (s)"),
            ],
            "short",
            6,
        ),
        panel(
            "Instances up",
            [(f'sum(up{{job="wealist-{svc}"}})', "up")],
            "short",
            7,
        ),
    ]
    return dashboard(f"wealist-{svc}", f"wealist / {svc}", panels)


def realtime_dashboard() -> dict[str, object]:
    ws_closed = '{__name__=~".+_service_websocket_connections_closed_total"}'
    panels = [
        panel(
            "Open WebSockets",
            [("service:websocket_connections:active", "{{service}}")],
            "short",
            0,
        ),
        panel("Open SSE streams", [("service:sse_connections:active", "{{service}}")], "short", 1),
        panel(
            "WebSocket closes by code",
            [(f"sum by (service, code) (rate({ws_closed}[5m]))", "{{service}} {{code}}")],
            "ops",
            2,
        ),
        panel(
            "Abnormal closes per accepted socket",
            [
                (
                    "service:websocket_abnormal_closes:rate5m"
                    " / service:websocket_opens:rate5m",
                    "{{service}}",
                )
            ],
            "percentunit",
            3,
        ),
        panel(
            "Notifications created and delivered on streams",
            [
                ("rate(noti_service_notifications_created_total[5m])", "created"),
                ("rate(noti_service_notifications_delivered_total[5m])", "delivered"),
            ],
            "ops",
            4,
        ),
        panel(
            "Outbox: oldest undelivered event",
            [("service:outbox_oldest_pending_age_seconds:max", "{{service}}")],
            "s",
            5,
        ),
        panel(
            "Chat and board request latency (p99)",
            [
                ('service:http_latency_seconds:p99_5m{service=~"chat|board|noti"}', "{{service}}")
            ],
            "s",
            6,
        ),
        panel(
            "5xx ratio of the real-time services",
            [('service:http_error_ratio:rate5m{service=~"chat|board|noti"}', "{{service}}")],
            "percentunit",
            7,
        ),
    ]
    return dashboard("wealist-realtime", "wealist / real-time delivery", panels)


def dashboards() -> dict[str, dict[str, object]]:
    found = {f"{svc}.json": service_dashboard(svc) for svc in SERVICES}
    found["realtime.json"] = realtime_dashboard()
    return found


def render(board: dict[str, object]) -> str:
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    target = HERE / "dashboards"
    target.mkdir(exist_ok=True)
    stale = []
    for name, board in dashboards().items():
        path = target / name
        text = render(board)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)} (run {Path(__file__).name})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
