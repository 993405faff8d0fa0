"""The audit log: admins read it newest first with filters and pages; nobody, not even
the service's own database role, can change or remove an entry."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.ops.conftest import Client
from tests.ops.support import BASE, Portal, assert_error

Db = psycopg.AsyncConnection[Any]


async def test_entries_cannot_be_changed_or_removed(portal: Portal, db_ops: Db) -> None:
    cur = await db_ops.execute("SELECT id FROM audit_logs LIMIT 1")
    row = await cur.fetchone()
    assert row is not None
    for statement in (
        "UPDATE audit_logs SET details = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_logs WHERE id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            await db_ops.execute(statement, (row[0],))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        await db_ops.execute("TRUNCATE audit_logs")
    cur = await db_ops.execute("SELECT details FROM audit_logs WHERE id = %s", (row[0],))
    assert (await cur.fetchone() or [""])[0] != "rewritten"


async def test_filters_pages_and_cursors(ops: Client, portal: Portal) -> None:
    h, url = portal.admin.headers, f"{BASE}/admin/audit-logs"
    me = (await ops.get(f"{BASE}/users/me", headers=h)).json()["data"]
    for _ in range(3):
        await ops.get(f"{BASE}/auth/callback", headers=h)
    mine = await ops.get(
        url, params={"user_id": me["id"], "action": "login", "limit": 2}, headers=h
    )
    body = mine.json()
    assert set(body) == {"success", "data", "page", "limit", "total"}
    assert (body["page"], body["limit"], body["total"]) == (1, 2, 3)
    assert [e["action"] for e in body["data"]] == ["login", "login"]
    assert body["data"][0]["createdAt"] >= body["data"][1]["createdAt"]
    assert set(body["data"][0]) == {
        "id",
        "userId",
        "userEmail",
        "action",
        "resourceType",
        "resourceId",
        "details",
        "ipAddress",
        "userAgent",
        "createdAt",
    }
    page2 = await ops.get(
        url, params={"user_id": me["id"], "action": "login", "limit": 2, "page": 2}, headers=h
    )
    following = await ops.get(
        url,
        params={
            "user_id": me["id"],
            "action": "login",
            "limit": 2,
            "cursor": mine.headers["x-next-cursor"],
        },
        headers=h,
    )
    assert [e["id"] for e in page2.json()["data"]] == [e["id"] for e in following.json()["data"]]
    assert len(page2.json()["data"]) == 1
    one = await ops.get(f"{url}/{body['data'][0]['id']}", headers=h)
    assert one.json()["data"] == body["data"][0]
    assert_error(await ops.get(f"{url}/{uuid.uuid4()}", headers=h), 404, "NOT_FOUND")
    later = await ops.get(url, params={"start_time": "2999-01-01T00:00:00Z"}, headers=h)
    assert later.json()["total"] == 0 and later.json()["data"] == []
    for bad in (
        {"user_id": "nope"},
        {"action": "drop"},
        {"resource_type": "tables"},
        {"start_time": "yesterday"},
        {"end_time": "2026-01-01T00:00:00"},  # no zone
        {"limit": 0},
        {"limit": 101},
        {"page": 0},
        {"cursor": "!!"},
    ):
        assert_error(await ops.get(url, params=bad, headers=h), 400, "VALIDATION_ERROR")
