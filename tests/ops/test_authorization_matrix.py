"""Every ops route crossed with {a portal admin, a pm, a viewer, a signed-in wealist user
who is no portal user, a former admin (deactivated), another account claiming the admin's
email, anonymous, the internal key without a user token}: each cell's status is asserted,
refusals carry the ops envelope and no data, and no one but the admin sees the portal user
or audit entry a row names.

Policy (T26 mapped onto the portal): portal roles, not workspaces, grant access; whoever
holds no active role that allows an action gets 403 (401 without a token), whatever
workspaces they belong to. Configs belong to no one: any PM may change one an admin made.
Every refused write leaves what it would change as it was (each write row's ``state``,
read through the API as the admin: the user, the config, the audit log).
Monitoring answers from a real Prometheus (no targets) and a fake Loki. A route without a
row fails ``test_every_route_has_a_row``."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.authz.support import in_process
from tests.ops.conftest import Client
from tests.ops.fake_loki import FakeLoki
from tests.ops.support import BASE, Actor, Portal, actor, invite, new_email
from tests.plugins.authz import Setup, Stage, State, check_unchanged, refusals, require_state
from tests.plugins.harness import INTERNAL_KEY, Environment, TokenIssuer
from tests.plugins.prometheus import PrometheusServer

ACTORS = (
    "admin",
    "pm",
    "viewer",
    "non_portal",
    "deactivated",
    "impostor",
    "anonymous",
    "internal_key",
)
PUBLIC = (200,) * 8
SIGNED_IN = (200, 200, 200, 200, 200, 200, 401, 401)
ANY_ROLE = (200, 200, 200, 403, 403, 403, 401, 401)
MANAGERS = (200, 200, 403, 403, 403, 403, 401, 401)
ADMIN = (200, 403, 403, 403, 403, 403, 401, 401)
KERNEL = ("/health", "/api/health", "/metrics", "/schema")
INTERNAL = Actor("internal_key", "", "", {"x-internal-api-key": INTERNAL_KEY})


@dataclass
class MatrixPortal(Portal):
    deactivated: Actor
    impostor: Actor

    def actors(self) -> dict[str, Actor]:
        return {
            **super().actors(),
            "deactivated": self.deactivated,
            "impostor": self.impostor,
            "internal_key": INTERNAL,
        }


async def build_portal(client: Client, issuer: TokenIssuer, admin: Actor) -> MatrixPortal:
    """The module's admin; a fresh pm, viewer and non-portal user; a former admin who
    signed in once and was deactivated; an account that claims the admin's email."""
    pm, viewer, outsider = actor(issuer, "pm"), actor(issuer, "viewer"), actor(issuer, "nobody")
    await invite(client, admin, pm, "pm")
    await invite(client, admin, viewer, "viewer")
    former = actor(issuer, "former")
    made = await invite(client, admin, former, "admin")
    assert (await client.get(f"{BASE}/users/me", headers=former.headers)).status_code == 200
    ended = await client.post(f"{BASE}/admin/users/{made['id']}/deactivate", headers=admin.headers)
    assert ended.status_code == 200, ended.text
    impostor = actor(issuer, "impostor", admin.email)
    return MatrixPortal(admin, pm, viewer, outsider, former, impostor)


Prepare = Callable[[Client, Portal], Awaitable[dict[str, str]]]
Body = Callable[[dict[str, str]], Any]  # the prepared values -> the request body


async def nothing(client: Client, portal: Portal) -> dict[str, str]:
    return {}


async def a_user(client: Client, portal: Portal) -> dict[str, str]:
    who = actor_for("target")
    made = await invite(client, portal.admin, who, "viewer")
    return {"target": made["id"], "private": who.email}


async def a_deactivated_user(client: Client, portal: Portal) -> dict[str, str]:
    values = await a_user(client, portal)
    ended = await client.post(
        f"{BASE}/admin/users/{values['target']}/deactivate", headers=portal.admin.headers
    )
    assert ended.status_code == 200, ended.text
    return values


async def an_email(client: Client, portal: Portal) -> dict[str, str]:
    return {"email": new_email("invited")}


async def a_key(client: Client, portal: Portal) -> dict[str, str]:
    return {"key": f"flag.{uuid.uuid4().hex[:8]}"}


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
    who = actor_for("audited")
    await invite(client, portal.admin, who, "viewer")  # "Invited user: <email> as viewer"
    found = await client.get(f"{BASE}/admin/audit-logs?limit=1", headers=portal.admin.headers)
    entry = found.json()["data"][0]
    assert who.email in entry["details"], entry
    return {"entry": entry["id"], "private": who.email}


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # as the app lists it
    expect: tuple[int, ...]
    path: str = ""  # formatted with the setup's values; default: the route
    body: Body | None = None
    prepare: Prepare = nothing
    success: int = 200  # the status a permitted actor gets
    state: State | None = None  # a write's: unchanged after every refused request

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def new_flag(v: dict[str, str]) -> dict[str, str]:
    return {"key": v["key"], "value": "1"}


async def _as_admin(stage: Stage, path: str) -> Any:
    response = await stage.client.get(path, headers=stage.world.admin.headers)
    body = response.json()
    return response.status_code, body.get("data") if response.status_code == 200 else None


async def the_user(stage: Stage) -> Any:
    """The target portal user, as the admin sees them."""
    return await _as_admin(stage, f"{BASE}/admin/users/{stage.setup.values['target']}")


async def users_by_email(stage: Stage) -> Any:
    """The portal users with the row's email (newest first: a new one is on page one)."""
    _, users = await _as_admin(stage, f"{BASE}/admin/users?limit=200")
    return [u for u in users if u["email"] == stage.setup.values["email"]]


async def the_config(stage: Stage) -> Any:
    """The row's config (by id or key), active or not, as the admin lists them."""
    _, configs = await _as_admin(stage, f"{BASE}/admin/config")
    values = stage.setup.values
    return [c for c in configs if c["id"] == values.get("config") or c["key"] == values["key"]]


async def the_audit_log(stage: Stage) -> Any:
    """The newest audit entries and how many there are."""
    response = await stage.client.get(
        f"{BASE}/admin/audit-logs?limit=5", headers=stage.world.admin.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    body.pop("requestId", None)
    return body


M = f"{BASE}/monitoring"
CASES = [
    Case("GET", f"{BASE}/config/active", PUBLIC),
    Case("GET", f"{BASE}/config/{{key}}", PUBLIC, f"{BASE}/config/{{key}}", prepare=a_config),
    Case("GET", f"{BASE}/auth/callback", ANY_ROLE),
    Case("POST", f"{BASE}/auth/logout", SIGNED_IN, state=the_audit_log),
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
        body=lambda v: {"email": v["email"], "role": "viewer"},
        prepare=an_email,
        success=201,
        state=users_by_email,
    ),
    Case(
        "PUT",
        f"{BASE}/admin/users/{{user_id}}/role",
        ADMIN,
        f"{BASE}/admin/users/{{target}}/role",
        body=lambda v: {"role": "pm"},
        prepare=a_user,
        state=the_user,
    ),
    Case(
        "POST",
        f"{BASE}/admin/users/{{user_id}}/deactivate",
        ADMIN,
        f"{BASE}/admin/users/{{target}}/deactivate",
        prepare=a_user,
        state=the_user,
    ),
    Case(
        "POST",
        f"{BASE}/admin/users/{{user_id}}/reactivate",
        ADMIN,
        f"{BASE}/admin/users/{{target}}/reactivate",
        prepare=a_deactivated_user,
        state=the_user,
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
    Case(
        "POST",
        f"{BASE}/admin/config",
        ADMIN,
        body=new_flag,
        prepare=a_key,
        success=201,
        state=the_config,
    ),
    Case(
        "PUT",
        f"{BASE}/admin/config/{{config_id}}",
        ADMIN,
        f"{BASE}/admin/config/{{config}}",
        body=lambda v: {"value": "off"},
        prepare=a_config,
        state=the_config,
    ),
    Case(
        "DELETE",
        f"{BASE}/admin/config/{{config_id}}",
        ADMIN,
        f"{BASE}/admin/config/{{config}}",
        prepare=a_config,
        success=204,
        state=the_config,
    ),
    Case("GET", f"{BASE}/pm/config", MANAGERS),
    Case(
        "POST",
        f"{BASE}/pm/config",
        MANAGERS,
        body=new_flag,
        prepare=a_key,
        success=201,
        state=the_config,
    ),
    Case(
        "PUT",
        f"{BASE}/pm/config/{{config_id}}",
        MANAGERS,
        f"{BASE}/pm/config/{{config}}",  # the admin's config: configs are no one's
        body=lambda v: {"value": "off"},
        prepare=a_config,
        state=the_config,
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


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, str]]:
    """A real Prometheus (no targets) and a fake Loki, for every row of the module."""
    root = Path(tempfile.mkdtemp(prefix="wealist-prometheus-"))
    prom, loki = PrometheusServer(root, {}), FakeLoki()
    try:
        prom.start()
        yield {"prometheus_url": prom.url, "loki_url": loki.url}
    finally:
        prom.stop()
        loki.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def root_admin(issuer: TokenIssuer) -> Actor:
    """The admin of the settings: one account for the module (the first to sign in with
    the email owns it)."""
    return actor(issuer, "root")


@pytest.fixture(scope="module")
async def matrix_ops(
    environment: Environment, backends: dict[str, str], root_admin: Actor
) -> AsyncIterator[Client]:
    async with in_process(environment, "ops", admin_emails=[root_admin.email], **backends) as c:
        yield c


def test_every_route_has_a_row(matrix_ops: Client) -> None:
    served = set()
    for route in matrix_ops.app.routes:
        if isinstance(route, HTTPRoute) and not route.path_format.startswith(KERNEL):
            served |= {f"{m} {route.path_format}" for m in route.methods - {"OPTIONS", "HEAD"}}
    assert served == {case.id for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_matrix(
    matrix_ops: Client, issuer: TokenIssuer, root_admin: Actor, case: Case
) -> None:
    require_state(case.id, case.method, case.expect, case.state)
    refused = refusals(ACTORS, case.expect)
    portal = await build_portal(matrix_ops, issuer, root_admin)
    got: dict[str, int] = {}
    for name in ACTORS:
        values = await case.prepare(matrix_ops, portal)
        who = portal.actors()[name]
        path = (case.path or case.route).format(**values)
        stage = Stage(matrix_ops, None, portal, Setup(values))
        watch = case.state if refused[name] else None
        before = await watch(stage) if watch is not None else None
        response = await matrix_ops.request(
            case.method,
            path,
            json=case.body(values) if case.body else None,
            headers=who.headers,
        )
        got[name] = response.status_code
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"success", "message", "code", "requestId"}, body
            assert "data" not in body
        if watch is not None and 400 <= response.status_code < 500:
            await check_unchanged(watch, stage, before, name, response)
        if name != "admin" and "private" in values:  # the row's user or entry
            assert values["private"] not in response.text, (name, response.text)
    wanted = {a: case.success if s == 200 else s for a, s in zip(ACTORS, case.expect, strict=True)}
    assert got == wanted, got
