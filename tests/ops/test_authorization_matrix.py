"""Every ops route crossed with {admin, pm, viewer, a signed-in non-portal user,
anonymous}: each cell's status is asserted, refusals carry the ops envelope and no data.
Monitoring answers from a real Prometheus (no targets) and a fake Loki. A route without a
row fails ``test_every_route_has_a_row``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.ops.conftest import Client
from tests.ops.fake_loki import FakeLoki, fake_loki  # noqa: F401  # the fixture
from tests.ops.support import BASE, Portal, build_portal, invite, new_email
from tests.plugins.harness import TokenIssuer
from tests.plugins.prometheus import PrometheusServer

ACTORS = ("admin", "pm", "viewer", "non_portal", "anonymous")
PUBLIC = (200, 200, 200, 200, 200)
SIGNED_IN = (200, 200, 200, 200, 401)
ANY_ROLE = (200, 200, 200, 403, 401)
MANAGERS = (200, 200, 403, 403, 401)
ADMIN = (200, 403, 403, 403, 401)
KERNEL = ("/health", "/api/health", "/metrics", "/schema")

Prepare = Callable[[Client, Portal], Awaitable[dict[str, str]]]


async def nothing(client: Client, portal: Portal) -> dict[str, str]:
    return {}


async def a_user(client: Client, portal: Portal) -> dict[str, str]:
    made = await invite(client, portal.admin, actor_for("target"), "viewer")
    return {"target": made["id"]}


def actor_for(tag: str) -> Any:
    return type("Who", (), {"email": new_email(tag)})()


async def a_config(client: Client, portal: Portal) -> dict[str, str]:
    key = f"flag.{uuid.uuid4().hex[:8]}"
    made = await client.post(
        f"{BASE}/admin/config", json={"key": key, "value": "on"}, headers=portal.admin.headers
    )
    assert made.status_code == 201, made.text
    return {"config": made.json()["data"]["id"], "key": key}


async def an_audit_entry(client: Client, portal: Portal) -> dict[str, str]:
    found = await client.get(f"{BASE}/admin/audit-logs?limit=1", headers=portal.admin.headers)
    return {"entry": found.json()["data"][0]["id"]}


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # as the app lists it
    expect: tuple[int, ...]
    path: str = ""  # formatted with the setup's values; default: the route
    body: Callable[[], Any] | None = None
    prepare: Prepare = nothing
    success: int = 200  # the status a permitted actor gets

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def new_flag() -> dict[str, str]:
    return {"key": f"flag.{uuid.uuid4().hex[:8]}", "value": "1"}


M = f"{BASE}/monitoring"
CASES = [
    Case("GET", f"{BASE}/config/active", PUBLIC),
    Case("GET", f"{BASE}/config/{{key}}", PUBLIC, f"{BASE}/config/{{key}}", prepare=a_config),
    Case("GET", f"{BASE}/auth/callback", ANY_ROLE),
    Case("POST", f"{BASE}/auth/logout", SIGNED_IN),
    Case("GET", f"{BASE}/users/me", ANY_ROLE),
    Case("GET", f"{BASE}/admin/users", ADMIN),
    Case(
        "GET",
        f"{BASE}/admin/users/{{user_id}}",
        ADMIN,
        f"{BASE}/admin/users/{{target}}",
        prepare=a_user,
    ),
    Case(
        "POST",
        f"{BASE}/admin/users/invite",
        ADMIN,
        body=lambda: {"email": new_email("invited"), "role": "viewer"},
        success=201,
    ),
    Case(
        "PUT",
        f"{BASE}/admin/users/{{user_id}}/role",
        ADMIN,
        f"{BASE}/admin/users/{{target}}/role",
        body=lambda: {"role": "pm"},
        prepare=a_user,
    ),
    Case(
        "POST",
        f"{BASE}/admin/users/{{user_id}}/deactivate",
        ADMIN,
        f"{BASE}/admin/users/{{target}}/deactivate",
        prepare=a_user,
    ),
    Case(
        "POST",
        f"{BASE}/admin/users/{{user_id}}/reactivate",
        ADMIN,
        f"{BASE}/admin/users/{{target}}/reactivate",
        prepare=a_user,
    ),
    Case("GET", f"{BASE}/admin/audit-logs", ADMIN),
    Case(
        "GET",
        f"{BASE}/admin/audit-logs/{{entry_id}}",
        ADMIN,
        f"{BASE}/admin/audit-logs/{{entry}}",
        prepare=an_audit_entry,
    ),
    Case("GET", f"{BASE}/admin/config", ADMIN),
    Case("POST", f"{BASE}/admin/config", ADMIN, body=new_flag, success=201),
    Case(
        "PUT",
        f"{BASE}/admin/config/{{config_id}}",
        ADMIN,
        f"{BASE}/admin/config/{{config}}",
        body=lambda: {"value": "off"},
        prepare=a_config,
    ),
    Case(
        "DELETE",
        f"{BASE}/admin/config/{{config_id}}",
        ADMIN,
        f"{BASE}/admin/config/{{config}}",
        prepare=a_config,
        success=204,
    ),
    Case("GET", f"{BASE}/pm/config", MANAGERS),
    Case("POST", f"{BASE}/pm/config", MANAGERS, body=new_flag, success=201),
    Case(
        "PUT",
        f"{BASE}/pm/config/{{config_id}}",
        MANAGERS,
        f"{BASE}/pm/config/{{config}}",
        body=lambda: {"value": "off"},
        prepare=a_config,
    ),
    *[
        Case("GET", f"{M}/{path}", ANY_ROLE)
        for path in (
            "metrics/overview",
            "metrics/services",
            "metrics/cluster",
            "errors/overview",
            "errors/recent",
            "errors/trend",
            "errors/by-service",
            "slo/overview",
            "slo/burn-rates",
            "logs",
            "logs/services",
        )
    ],
    Case(
        "GET",
        f"{M}/metrics/services/{{service_name}}",
        ANY_ROLE,
        f"{M}/metrics/services/board-service",
    ),
]


@pytest.fixture
async def matrix_ops(
    app_client: Callable[..., Any],
    admin_email: str,
    prometheus: Callable[[dict[str, list[int]]], PrometheusServer],
    fake_loki: FakeLoki,  # noqa: F811  # the fixture imported above
) -> AsyncIterator[Client]:
    prom = prometheus({})
    settings = {"prometheus_url": prom.url, "loki_url": fake_loki.url}
    async with app_client("ops", admin_emails=[admin_email], **settings) as opened:
        yield opened


def test_every_route_has_a_row(matrix_ops: Client) -> None:
    served = set()
    for route in matrix_ops.app.routes:
        if isinstance(route, HTTPRoute) and not route.path_format.startswith(KERNEL):
            served |= {f"{m} {route.path_format}" for m in route.methods - {"OPTIONS", "HEAD"}}
    assert served == {case.id for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_matrix(
    matrix_ops: Client, issuer: TokenIssuer, admin_email: str, case: Case
) -> None:
    portal = await build_portal(matrix_ops, issuer, admin_email)
    got: dict[str, int] = {}
    for name in ACTORS:
        values = await case.prepare(matrix_ops, portal)
        who = portal.actors()[name]
        path = (case.path or case.route).format(**values)
        response = await matrix_ops.request(
            case.method,
            path,
            json=case.body() if case.body else None,
            headers=who.headers,
        )
        got[name] = response.status_code
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"success", "message", "code", "requestId"}, body
            assert "data" not in body
    wanted = {a: case.success if s == 200 else s for a, s in zip(ACTORS, case.expect, strict=True)}
    assert got == wanted, got
