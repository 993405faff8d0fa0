"""App configs and feature flags: public reads of active ones only, admin/PM changes with
checked input, every change audited without the value, and the hot public read in one
query."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.ops.conftest import Client
from tests.ops.support import BASE, Portal, assert_error

Db = psycopg.AsyncConnection[Any]


def key() -> str:
    return f"feature.{uuid.uuid4().hex[:10]}"


async def test_lifecycle_of_a_flag(ops: Client, portal: Portal, db_ops: Db) -> None:
    name, h = key(), portal.pm.headers
    made = await ops.post(
        f"{BASE}/pm/config", json={"key": name, "value": "s3cr3t-v1", "description": "d"}, headers=h
    )
    assert made.status_code == 201, made.text
    config = made.json()["data"]
    assert set(config) == {
        "id",
        "key",
        "value",
        "description",
        "isActive",
        "updatedAt",
        "createdAt",
        "updatedBy",
    }
    assert (config["key"], config["value"], config["isActive"]) == (name, "s3cr3t-v1", True)
    public = await ops.get(f"{BASE}/config/active")
    assert public.json()["data"][name] == "s3cr3t-v1"
    assert (await ops.get(f"{BASE}/config/{name}")).json()["data"]["id"] == config["id"]

    off = await ops.put(
        f"{BASE}/pm/config/{config['id']}", json={"value": "v2", "isActive": False}, headers=h
    )
    assert off.status_code == 200 and off.json()["data"]["isActive"] is False
    assert off.json()["data"]["description"] == "d"  # kept when not sent
    assert name not in (await ops.get(f"{BASE}/config/active")).json()["data"]
    assert_error(await ops.get(f"{BASE}/config/{name}"), 404, "NOT_FOUND")  # drafts stay private
    listed = await ops.get(f"{BASE}/admin/config", headers=portal.admin.headers)
    assert name in {c["key"] for c in listed.json()["data"]}

    assert_error(
        await ops.delete(f"{BASE}/admin/config/{config['id']}", headers=h), 403, "FORBIDDEN"
    )
    gone = await ops.delete(f"{BASE}/admin/config/{config['id']}", headers=portal.admin.headers)
    assert gone.status_code == 204 and gone.content == b""
    again = await ops.delete(f"{BASE}/admin/config/{config['id']}", headers=portal.admin.headers)
    assert_error(again, 404, "NOT_FOUND")
    recreated = await ops.post(
        f"{BASE}/admin/config", json={"key": name, "value": "v3"}, headers=portal.admin.headers
    )
    assert recreated.status_code == 201  # a deleted key can be used again

    cur = await db_ops.execute(
        "SELECT action, user_email, details FROM audit_logs WHERE resource_type = 'app_config'"
        " AND details LIKE %s ORDER BY created_at, id",
        (f"% {name}%",),
    )
    entries = await cur.fetchall()
    assert [e[0] for e in entries] == ["create", "update", "delete", "create"]
    assert entries[0][1] == portal.pm.email and entries[2][1] == portal.admin.email
    assert entries[1][2] == f"Updated config {name} (active: false)"
    assert not any("s3cr3t" in e[2] or "v2" in e[2] for e in entries)  # never the value


async def test_bad_input_changes_nothing(ops: Client, portal: Portal, db_ops: Db) -> None:
    url, h = f"{BASE}/admin/config", portal.admin.headers
    cur = await db_ops.execute("SELECT count(*) FROM app_configs")
    before = (await cur.fetchone() or [0])[0]
    for body in (
        {"key": "has space", "value": "1"},
        {"key": "", "value": "1"},
        {"key": "k" * 101, "value": "1"},
        {"key": key(), "value": "x" * 65_537},
        {"key": key(), "value": "1", "description": "d" * 1001},
        {"key": key()},
        {"key": key(), "value": "1", "unknown": True},
    ):
        assert_error(await ops.post(url, json=body, headers=h), 400, "VALIDATION_ERROR")
    name = key()
    assert (await ops.post(url, json={"key": name, "value": "1"}, headers=h)).status_code == 201
    twice = await ops.post(url, json={"key": name, "value": "2"}, headers=h)
    assert_error(twice, 409, "ALREADY_EXISTS")
    missing = await ops.put(f"{url}/{uuid.uuid4()}", json={"value": "1"}, headers=h)
    assert_error(missing, 404, "NOT_FOUND")
    assert_error(
        await ops.put(f"{url}/nope", json={"value": "1"}, headers=h), 400, "VALIDATION_ERROR"
    )
    cur = await db_ops.execute("SELECT count(*) FROM app_configs")
    assert (await cur.fetchone() or [0])[0] == before + 1


async def test_the_public_read_is_one_query(app_client: Any, admin_email: str) -> None:
    async with app_client("ops", admin_emails=[admin_email]) as ops:
        ctx = ops.app.state["contexts"]["ops"]
        await ops.get(f"{BASE}/config/active")  # warm up
        before = ctx.database.calls
        answer = await ops.get(f"{BASE}/config/active")
        assert answer.status_code == 200
        assert ctx.database.calls - before == 1
