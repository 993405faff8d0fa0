"""Members: the list, invitations, roles, removal, and the events they leave."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.user.support import (
    Db,
    World,
    assert_error,
    invite,
    member_id_of,
    sign_up,
)

Client = AsyncTestClient[Litestar]
MEMBER_KEYS = {
    "workspaceMemberId",
    "workspaceId",
    "userId",
    "roleName",
    "isDefault",
    "isActive",
    "joinedAt",
    "updatedAt",
    "userEmail",
    "nickName",
}


async def outbox_events(db: Db, event_type: str, workspace_id: str) -> list[Any]:
    cur = await db.execute(
        "SELECT payload FROM outbox WHERE event_type = %s AND payload->>'workspaceId' = %s"
        " ORDER BY id",
        (event_type, workspace_id),
    )
    return [row[0] for row in await cur.fetchall()]


async def test_members_list_for_members(client: Client, world: World) -> None:
    listed = await client.get(f"/api/workspaces/{world.a}/members", headers=world.member.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [(m["userId"], m["roleName"]) for m in body] == [
        (world.owner.user_id, "OWNER"),
        (world.admin.user_id, "ADMIN"),
        (world.member.user_id, "MEMBER"),
    ]
    assert all(set(m) == MEMBER_KEYS for m in body)  # no image yet: the key is omitted
    assert body[1]["userEmail"] == world.admin.email
    assert body[1]["nickName"] == "Admin"
    assert "x-next-cursor" not in listed.headers
    for actor in (world.outsider, world.other_admin):
        refused = await client.get(f"/api/workspaces/{world.a}/members", headers=actor.headers)
        assert_error(refused, 404, "NOT_FOUND")


async def test_members_list_pages_with_a_cursor(client: Client, world: World) -> None:
    path = f"/api/workspaces/{world.a}/members"
    first = await client.get(
        path,
        params={"limit": 2},
        headers=world.member.bearer(Origin="http://localhost:5173"),
    )
    cursor = first.headers["x-next-cursor"]
    exposed = first.headers["access-control-expose-headers"].lower()
    assert "x-next-cursor" in exposed  # the browser may read it
    second = await client.get(
        path, params={"limit": 2, "cursor": cursor}, headers=world.member.headers
    )
    ids = [m["userId"] for m in first.json() + second.json()]
    assert ids == [world.owner.user_id, world.admin.user_id, world.member.user_id]
    assert "x-next-cursor" not in second.headers
    bad = await client.get(path, params={"cursor": "garbage!"}, headers=world.member.headers)
    assert_error(bad, 400, "VALIDATION_ERROR")
    for limit in (0, 1001):
        bad = await client.get(path, params={"limit": limit}, headers=world.member.headers)
        assert_error(bad, 400, "VALIDATION_ERROR")


async def test_invite_adds_the_user_and_tells_them(
    client: Client, world: World, issuer: TokenIssuer, db: Db
) -> None:
    grace = await sign_up(client, issuer, "grace")
    response = await invite(client, world.admin, world.a, grace)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == MEMBER_KEYS
    assert (body["userId"], body["roleName"], body["isActive"]) == (grace.user_id, "MEMBER", True)
    mine = (await client.get("/api/workspaces/all", headers=grace.headers)).json()
    assert [w["workspaceId"] for w in mine] == [world.a]
    profile = await client.get(
        "/api/profiles/me", headers=grace.bearer(**{"X-Workspace-Id": world.a})
    )
    assert profile.json()["workspaceId"] == world.a

    [event] = [
        e
        for e in await outbox_events(db, "notification.requested", world.a)
        if e["targetUserId"] == grace.user_id
    ]
    assert event == {
        "type": "WORKSPACE_INVITED",
        "actorId": world.admin.user_id,
        "targetUserId": grace.user_id,
        "workspaceId": world.a,
        "resourceType": "workspace",
        "resourceId": world.a,
        "resourceName": "Alpha team",
        "metadata": {"role": "MEMBER"},
    }

    again = await invite(client, world.owner, world.a, grace)
    assert_error(again, 409, "ALREADY_EXISTS")


async def test_invite_rules(client: Client, world: World, issuer: TokenIssuer) -> None:
    grace = await sign_up(client, issuer, "grace")
    assert_error(await invite(client, world.member, world.a, grace), 403, "FORBIDDEN")
    assert_error(
        await invite(client, world.owner, world.a, grace, "OWNER"), 400, "VALIDATION_ERROR"
    )
    assert_error(await invite(client, world.owner, world.a, grace, "KING"), 400, "VALIDATION_ERROR")
    nobody = await client.post(
        f"/api/workspaces/{world.a}/members/invite",
        json={"email": "nobody-at-all@example.com"},
        headers=world.owner.headers,
    )
    assert_error(nobody, 404, "NOT_FOUND")
    assert_error(await invite(client, world.other_admin, world.a, grace), 404, "NOT_FOUND")

    # With onlyOwnerCanInvite off, members invite members (not admins).
    await client.put(
        f"/api/workspaces/{world.a}/settings",
        json={"onlyOwnerCanInvite": False},
        headers=world.owner.headers,
    )
    assert_error(await invite(client, world.member, world.a, grace, "ADMIN"), 403, "FORBIDDEN")
    assert (await invite(client, world.member, world.a, grace)).status_code == 201


async def test_at_most_four_admins(client: Client, world: World, issuer: TokenIssuer) -> None:
    for n in range(3):  # the world has one admin already
        extra = await sign_up(client, issuer, f"extra{n}")
        assert (await invite(client, world.owner, world.a, extra, "ADMIN")).status_code == 201
    fifth = await sign_up(client, issuer, "fifth")
    assert_error(await invite(client, world.owner, world.a, fifth, "ADMIN"), 409, "CONFLICT")
    member_id = await member_id_of(client, world.owner, world.a, world.member)
    promoted = await client.put(
        f"/api/workspaces/{world.a}/members/{member_id}/role",
        json={"roleName": "ADMIN"},
        headers=world.owner.headers,
    )
    assert_error(promoted, 409, "CONFLICT")


async def test_role_changes(client: Client, world: World, db: Db) -> None:
    member_id = await member_id_of(client, world.owner, world.a, world.member)
    owner_id = await member_id_of(client, world.owner, world.a, world.owner)
    admin_id = await member_id_of(client, world.owner, world.a, world.admin)
    path = f"/api/workspaces/{world.a}/members/{{}}/role"

    promoted = await client.put(
        path.format(member_id), json={"roleName": "ADMIN"}, headers=world.admin.headers
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["roleName"] == "ADMIN"
    [event] = [
        e
        for e in await outbox_events(db, "notification.requested", world.a)
        if e["type"] == "WORKSPACE_ROLE_CHANGED"
    ]
    assert event["targetUserId"] == world.member.user_id
    assert event["metadata"] == {"oldRole": "MEMBER", "newRole": "ADMIN"}

    # An admin cannot change another admin; the owner can; nobody changes the owner.
    refused = await client.put(
        path.format(member_id), json={"roleName": "MEMBER"}, headers=world.admin.headers
    )
    assert_error(refused, 403, "FORBIDDEN")
    demoted = await client.put(
        path.format(member_id), json={"roleName": "MEMBER"}, headers=world.owner.headers
    )
    assert demoted.json()["roleName"] == "MEMBER"
    for role in ("MEMBER", "ADMIN"):
        refused = await client.put(
            path.format(owner_id), json={"roleName": role}, headers=world.admin.headers
        )
        assert_error(refused, 403, "FORBIDDEN")
    made_owner = await client.put(
        path.format(admin_id), json={"roleName": "OWNER"}, headers=world.owner.headers
    )
    assert_error(made_owner, 400, "VALIDATION_ERROR")
    by_member = await client.put(
        path.format(admin_id), json={"roleName": "MEMBER"}, headers=world.member.headers
    )
    assert_error(by_member, 403, "FORBIDDEN")
    # The user id names the member too (the frontend sends either).
    by_user_id = await client.put(
        path.format(world.admin.user_id), json={"roleName": "MEMBER"}, headers=world.owner.headers
    )
    assert by_user_id.json()["roleName"] == "MEMBER"


async def test_a_member_of_another_workspace_cannot_be_reached_through_this_one(
    client: Client, world: World
) -> None:
    """The original looked memberId up without checking the workspace in the path."""
    b_admin_member_id = await member_id_of(client, world.other_owner, world.b, world.other_admin)
    for method, path, body in (
        (
            "PUT",
            f"/api/workspaces/{world.a}/members/{b_admin_member_id}/role",
            {"roleName": "MEMBER"},
        ),
        ("DELETE", f"/api/workspaces/{world.a}/members/{b_admin_member_id}", None),
    ):
        response = await client.request(method, path, json=body, headers=world.owner.headers)
        assert_error(response, 404, "NOT_FOUND")
    still = await client.get(
        f"/api/workspaces/{world.b}/members", headers=world.other_owner.headers
    )
    assert ("ADMIN", True) in [(m["roleName"], m["isActive"]) for m in still.json()]


async def test_removal_and_leaving(
    client: Client, world: World, db: Db, issuer: TokenIssuer
) -> None:
    owner_id = await member_id_of(client, world.owner, world.a, world.owner)
    admin_id = await member_id_of(client, world.owner, world.a, world.admin)
    member_id = await member_id_of(client, world.owner, world.a, world.member)
    base = f"/api/workspaces/{world.a}/members"

    assert_error(
        await client.delete(f"{base}/{admin_id}", headers=world.member.headers), 403, "FORBIDDEN"
    )
    assert_error(
        await client.delete(f"{base}/{owner_id}", headers=world.admin.headers), 403, "FORBIDDEN"
    )
    assert_error(
        await client.delete(f"{base}/{owner_id}", headers=world.owner.headers), 403, "FORBIDDEN"
    )

    removed = await client.delete(f"{base}/{member_id}", headers=world.admin.headers)
    assert removed.json() == {"message": "member removed"}
    assert (await client.get("/api/workspaces/all", headers=world.member.headers)).json() == []
    gone = await client.get(f"/api/workspaces/{world.a}", headers=world.member.headers)
    assert_error(gone, 404, "NOT_FOUND")
    profile = await db.execute(
        "SELECT count(*) FROM user_profiles WHERE user_id = %s AND workspace_id = %s",
        (world.member.user_id, world.a),
    )
    assert (await profile.fetchone() or [None])[0] == 0
    [removal] = await outbox_events(db, "workspace.member_removed", world.a)
    assert removal == {
        "workspaceId": world.a,
        "userId": world.member.user_id,
        "removedBy": world.admin.user_id,
    }
    assert any(
        e["type"] == "WORKSPACE_REMOVED" and e["targetUserId"] == world.member.user_id
        for e in await outbox_events(db, "notification.requested", world.a)
    )

    # Re-inviting reactivates the one membership row instead of adding another.
    assert (await invite(client, world.owner, world.a, world.member)).status_code == 201
    rows = await db.execute(
        "SELECT count(*) FROM workspace_members WHERE workspace_id = %s AND user_id = %s",
        (world.a, world.member.user_id),
    )
    assert (await rows.fetchone() or [None])[0] == 1

    # Leaving: an admin removes themself.
    left = await client.delete(f"{base}/{world.admin.user_id}", headers=world.admin.headers)
    assert left.status_code == 200
    assert (await client.get("/api/workspaces/all", headers=world.admin.headers)).json() == []
