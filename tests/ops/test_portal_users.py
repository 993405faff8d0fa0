"""Portal users: the first admins come from the settings (nobody becomes admin by signing
in first), invitations, roles, deactivation, and one account per portal user."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.ops.conftest import Client
from tests.ops.support import BASE, Portal, actor, assert_error, invite
from tests.plugins.harness import TokenIssuer

Db = psycopg.AsyncConnection[Any]


async def audit_of(db: Db, resource_id: str) -> list[tuple[str, str, str]]:
    cur = await db.execute(
        "SELECT action, user_email, details FROM audit_logs WHERE resource_id = %s"
        " ORDER BY created_at, id",
        (resource_id,),
    )
    return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def portal_rows(db: Db, email: str) -> list[tuple[Any, ...]]:
    cur = await db.execute("SELECT role, is_active FROM portal_users WHERE email = %s", (email,))
    return await cur.fetchall()


async def test_the_configured_email_becomes_admin_at_its_first_sign_in(
    ops: Client, issuer: TokenIssuer, admin_email: str, db_ops: Db
) -> None:
    admin = actor(issuer, "admin", admin_email.upper())  # the claim's case does not matter
    response = await ops.get(f"{BASE}/auth/callback", headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    user = body["data"]["user"]
    assert body["data"]["isNew"] is True
    assert user["email"] == admin_email and user["role"] == "admin" and user["isActive"]
    assert user["boundUserId"] == admin.user_id and user["lastLoginAt"] is not None
    again = await ops.get(f"{BASE}/auth/callback", headers=admin.headers)
    assert again.json()["data"]["isNew"] is False
    actions = [a for a, _, _ in await audit_of(db_ops, user["id"])]
    assert actions == ["create", "login", "login"]
    assert (await audit_of(db_ops, user["id"]))[0][2] == "Admin from WEALIST_OPS_ADMIN_EMAILS"


async def test_signing_in_first_makes_nobody_a_portal_user(
    ops: Client, issuer: TokenIssuer, db_ops: Db
) -> None:
    stranger = actor(issuer, "first")
    response = await ops.get(f"{BASE}/auth/callback", headers=stranger.headers)
    assert_error(response, 403, "NOT_A_PORTAL_USER")
    assert await portal_rows(db_ops, stranger.email) == []
    me = await ops.get(f"{BASE}/users/me", headers=stranger.headers)
    assert_error(me, 403, "NOT_A_PORTAL_USER")
    no_email = issuer.token()  # a valid access token without an email claim
    refused = await ops.get(f"{BASE}/users/me", headers={"Authorization": f"Bearer {no_email}"})
    assert_error(refused, 403, "NOT_A_PORTAL_USER")
    assert_error(await ops.get(f"{BASE}/users/me"), 401, "UNAUTHORIZED")


async def test_an_invited_user_signs_in_with_their_role(
    ops: Client, portal: Portal, db_ops: Db
) -> None:
    first = await ops.get(
        f"{BASE}/auth/callback", headers={**portal.pm.headers, "User-Agent": "portal-test/1"}
    )
    assert first.status_code == 200, first.text
    user = first.json()["data"]["user"]
    assert first.json()["data"]["isNew"] is True
    assert user["role"] == "pm" and user["email"] == portal.pm.email
    me = await ops.get(f"{BASE}/users/me", headers=portal.pm.headers)
    assert me.json() == {"success": True, "data": me.json()["data"]}
    assert me.json()["data"]["id"] == user["id"]
    cur = await db_ops.execute(
        "SELECT action, user_agent, ip_address FROM audit_logs WHERE resource_id = %s"
        " AND action = 'login'",
        (user["id"],),
    )
    # The in-process client's peer; X-Real-IP counts only from a trusted proxy (below).
    assert await cur.fetchall() == [("login", "portal-test/1", "testclient")]


async def test_the_audit_log_takes_the_client_ip_from_a_trusted_gateway_only(
    app_client: Any, issuer: TokenIssuer, admin_email: str, db_ops: Db
) -> None:
    admin = actor(issuer, "admin", admin_email)
    forwarded = {**admin.headers, "X-Real-IP": "203.0.113.7"}
    async with app_client("ops", admin_emails=[admin_email]) as untrusting:
        await untrusting.get(f"{BASE}/auth/callback", headers=forwarded)
    async with app_client(
        "ops", admin_emails=[admin_email], trusted_proxies=["testclient"]
    ) as behind_gateway:
        await behind_gateway.get(f"{BASE}/auth/callback", headers=forwarded)
        spoofed = {**admin.headers, "X-Real-IP": "not-an-ip"}
        await behind_gateway.get(f"{BASE}/auth/callback", headers=spoofed)
    cur = await db_ops.execute(
        "SELECT ip_address FROM audit_logs WHERE user_email = %s AND action = 'login'"
        " ORDER BY created_at",
        (admin_email,),
    )
    assert [r[0] for r in await cur.fetchall()] == ["testclient", "203.0.113.7", "testclient"]


async def test_a_portal_user_belongs_to_the_account_that_signed_in_first(
    ops: Client, portal: Portal, issuer: TokenIssuer
) -> None:
    assert (await ops.get(f"{BASE}/users/me", headers=portal.viewer.headers)).status_code == 200
    squatter = actor(issuer, "squatter", portal.viewer.email)  # same email, other account
    refused = await ops.get(f"{BASE}/users/me", headers=squatter.headers)
    assert_error(refused, 403, "NOT_A_PORTAL_USER")
    assert (await ops.get(f"{BASE}/users/me", headers=portal.viewer.headers)).status_code == 200


async def test_invitations_are_checked_and_audited(
    ops: Client, portal: Portal, issuer: TokenIssuer, db_ops: Db
) -> None:
    url = f"{BASE}/admin/users/invite"
    h = portal.admin.headers
    for body in (
        {"email": "not-an-email", "role": "viewer"},
        {"email": "x@example.com", "role": "owner"},
        {"email": "x@example.com"},
        {"email": "x@example.com", "role": "viewer", "extra": 1},
        {"email": "a" * 400 + "@example.com", "role": "viewer"},
    ):
        assert_error(await ops.post(url, json=body, headers=h), 400, "VALIDATION_ERROR")
    newcomer = actor(issuer, "newcomer")
    created = await invite(ops, portal.admin, newcomer, "viewer")
    assert created["email"] == newcomer.email and created["role"] == "viewer"
    assert created["lastLoginAt"] is None and created["boundUserId"] is None
    assert created["invitedBy"] is not None
    shouted = {"email": newcomer.email.upper(), "role": "pm"}
    assert_error(await ops.post(url, json=shouted, headers=h), 409, "ALREADY_EXISTS")
    assert await portal_rows(db_ops, newcomer.email) == [("viewer", True)]
    assert await audit_of(db_ops, created["id"]) == [
        ("create", portal.admin.email, f"Invited user: {newcomer.email} as viewer")
    ]


async def test_role_changes(ops: Client, portal: Portal, db_ops: Db) -> None:
    pm = (await ops.get(f"{BASE}/users/me", headers=portal.pm.headers)).json()["data"]
    admin = (await ops.get(f"{BASE}/users/me", headers=portal.admin.headers)).json()["data"]
    h = portal.admin.headers
    assert (await ops.get(f"{BASE}/pm/config", headers=portal.pm.headers)).status_code == 200
    role_url = f"{BASE}/admin/users/{pm['id']}/role"
    changed = await ops.put(role_url, json={"role": "viewer"}, headers=h)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"success": True, "message": "Role updated successfully"}
    assert_error(await ops.get(f"{BASE}/pm/config", headers=portal.pm.headers), 403, "FORBIDDEN")
    mine = await ops.put(f"{BASE}/admin/users/{admin['id']}/role", json={"role": "pm"}, headers=h)
    assert_error(mine, 400, "SELF_MODIFICATION")
    bad = await ops.put(f"{BASE}/admin/users/{pm['id']}/role", json={"role": "root"}, headers=h)
    assert_error(bad, 400, "VALIDATION_ERROR")
    missing = "00000000-0000-4000-8000-000000000000"
    gone = await ops.put(f"{BASE}/admin/users/{missing}/role", json={"role": "pm"}, headers=h)
    assert_error(gone, 404, "NOT_FOUND")
    assert_error(
        await ops.put(f"{BASE}/admin/users/nope/role", json={"role": "pm"}, headers=h),
        400,
        "VALIDATION_ERROR",
    )
    entries = await audit_of(db_ops, pm["id"])
    assert entries[0] == ("create", portal.admin.email, f"Invited user: {portal.pm.email} as pm")
    assert entries[-1] == ("update", portal.admin.email, "Changed role from pm to viewer")
    assert len(entries) == 2  # /users/me and /pm/config write nothing


async def test_deactivation_locks_out_and_reactivation_lets_back_in(
    ops: Client, portal: Portal, db_ops: Db
) -> None:
    viewer = (await ops.get(f"{BASE}/users/me", headers=portal.viewer.headers)).json()["data"]
    h = portal.admin.headers
    off = await ops.post(f"{BASE}/admin/users/{viewer['id']}/deactivate", headers=h)
    assert off.json() == {"success": True, "message": "User deactivated successfully"}
    refused = await ops.get(f"{BASE}/users/me", headers=portal.viewer.headers)
    assert_error(refused, 403, "PORTAL_USER_INACTIVE")
    listed = await ops.get(f"{BASE}/admin/users/{viewer['id']}", headers=h)
    assert listed.json()["data"]["isActive"] is False
    on = await ops.post(f"{BASE}/admin/users/{viewer['id']}/reactivate", headers=h)
    assert on.json() == {"success": True, "message": "User reactivated successfully"}
    assert (await ops.get(f"{BASE}/users/me", headers=portal.viewer.headers)).status_code == 200
    details = [d for _, _, d in await audit_of(db_ops, viewer["id"])]
    assert details[-2:] == ["Deactivated user", "Reactivated user"]
    admin_id = (await ops.get(f"{BASE}/users/me", headers=h)).json()["data"]["id"]
    mine = await ops.post(f"{BASE}/admin/users/{admin_id}/deactivate", headers=h)
    assert_error(mine, 400, "SELF_MODIFICATION")


async def test_admins_list_users_newest_first_with_a_cursor(ops: Client, portal: Portal) -> None:
    h = portal.admin.headers
    first = await ops.get(f"{BASE}/admin/users", params={"limit": 2}, headers=h)
    assert first.status_code == 200, first.text
    page = first.json()["data"]
    assert len(page) == 2
    assert page[0]["createdAt"] >= page[1]["createdAt"]
    cursor = first.headers["x-next-cursor"]
    second = await ops.get(f"{BASE}/admin/users", params={"limit": 2, "cursor": cursor}, headers=h)
    assert {u["id"] for u in page}.isdisjoint({u["id"] for u in second.json()["data"]})
    bad = await ops.get(f"{BASE}/admin/users", params={"cursor": "zzz"}, headers=h)
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_logout_is_audited_for_portal_users_only(
    ops: Client, portal: Portal, db_ops: Db
) -> None:
    me = (await ops.get(f"{BASE}/users/me", headers=portal.viewer.headers)).json()["data"]
    out = await ops.post(f"{BASE}/auth/logout", headers=portal.viewer.headers)
    assert out.json() == {"success": True, "message": "Logged out successfully"}
    assert (await audit_of(db_ops, me["id"]))[-1][0] == "logout"
    before = await db_ops.execute("SELECT count(*) FROM audit_logs")
    count = (await before.fetchone() or [0])[0]
    nobody = await ops.post(f"{BASE}/auth/logout", headers=portal.outsider.headers)
    assert nobody.status_code == 200
    after = await db_ops.execute("SELECT count(*) FROM audit_logs")
    assert (await after.fetchone() or [0])[0] == count
    assert_error(await ops.post(f"{BASE}/auth/logout"), 401, "UNAUTHORIZED")
