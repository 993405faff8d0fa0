"""Join requests: discover, ask, approve or reject (both path styles)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.user.support import Actor, World, assert_error, create_workspace, sign_up

Client = AsyncTestClient[Litestar]
REQUEST_KEYS = {
    "joinRequestId",
    "workspaceId",
    "userId",
    "status",
    "requestedAt",
    "updatedAt",
    "userEmail",
    "nickName",
    "workspaceName",
}


async def ask(client: Client, who: Actor, workspace_id: str) -> Any:
    return await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": workspace_id}, headers=who.headers
    )


async def roles(client: Client, world: World) -> dict[str, str]:
    listed = await client.get(f"/api/workspaces/{world.a}/members", headers=world.owner.headers)
    return {m["userId"]: m["roleName"] for m in listed.json()}


async def test_asking_to_join_a_public_workspace(
    client: Client, world: World, issuer: TokenIssuer
) -> None:
    grace = await sign_up(client, issuer, "grace", name="Grace")
    response = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": world.a}, headers=grace.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == REQUEST_KEYS
    assert (body["status"], body["userId"], body["userEmail"], body["nickName"]) == (
        "PENDING",
        grace.user_id,
        grace.email,
        "Grace",
    )
    assert body["workspaceName"] == "Alpha team"
    again = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": world.a}, headers=grace.headers
    )
    assert_error(again, 409, "PENDING_REQUEST_EXISTS")
    member = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": world.a}, headers=world.member.headers
    )
    assert_error(member, 409, "ALREADY_MEMBER")
    # Asking gives no access.
    assert_error(
        await client.get(f"/api/workspaces/{world.a}", headers=grace.headers), 404, "NOT_FOUND"
    )

    for path in ("joinRequests", "pendingMembers"):
        listed = await client.get(f"/api/workspaces/{world.a}/{path}", headers=world.admin.headers)
        assert listed.status_code == 200
        assert [r["joinRequestId"] for r in listed.json()] == [body["joinRequestId"]]
        refused = await client.get(
            f"/api/workspaces/{world.a}/{path}", headers=world.member.headers
        )
        assert_error(refused, 403, "FORBIDDEN")


async def test_private_and_missing_workspaces_cannot_be_asked(
    client: Client, issuer: TokenIssuer
) -> None:
    owner = await sign_up(client, issuer, "owner")
    private = await create_workspace(client, owner, "Hidden", isPublic=False)
    grace = await sign_up(client, issuer, "grace")
    for workspace_id in (private, "00000000-0000-0000-0000-000000000000", "5" * 32):
        response = await client.post(
            "/api/workspaces/join-requests",
            json={"workspaceId": workspace_id},
            headers=grace.headers,
        )
        assert_error(response, 404, "NOT_FOUND")
    bad = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": "nope"}, headers=grace.headers
    )
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_a_workspace_without_approval_admits_at_once(
    client: Client, issuer: TokenIssuer
) -> None:
    owner = await sign_up(client, issuer, "owner")
    open_ws = await create_workspace(client, owner, "Open house", needApproved=False)
    grace = await sign_up(client, issuer, "grace")
    response = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": open_ws}, headers=grace.headers
    )
    assert response.status_code == 201
    assert response.json()["status"] == "APPROVED"
    mine = (await client.get("/api/workspaces/all", headers=grace.headers)).json()
    assert [(w["workspaceId"], w["role"]) for w in mine] == [(open_ws, "MEMBER")]


async def test_deciding_by_request_id(client: Client, world: World, issuer: TokenIssuer) -> None:
    grace = await sign_up(client, issuer, "grace")
    request_id = (await ask(client, grace, world.a)).json()["joinRequestId"]
    path = f"/api/workspaces/{world.a}/joinRequests/{request_id}"
    for status in ("PENDING", "approved", "MAYBE", ""):
        bad = await client.put(path, json={"status": status}, headers=world.owner.headers)
        assert_error(bad, 400, "VALIDATION_ERROR")
    refused = await client.put(path, json={"status": "APPROVED"}, headers=world.member.headers)
    assert_error(refused, 403, "FORBIDDEN")
    elsewhere = await client.put(
        f"/api/workspaces/{world.b}/joinRequests/{request_id}",
        json={"status": "APPROVED"},
        headers=world.other_owner.headers,
    )
    assert_error(elsewhere, 404, "NOT_FOUND")

    approved = await client.put(path, json={"status": "APPROVED"}, headers=world.admin.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "APPROVED"
    assert (await roles(client, world))[grace.user_id] == "MEMBER"
    twice = await client.put(path, json={"status": "REJECTED"}, headers=world.admin.headers)
    assert_error(twice, 409, "CONFLICT")
    listed = await client.get(
        f"/api/workspaces/{world.a}/joinRequests", headers=world.owner.headers
    )
    assert listed.json() == []


async def test_deciding_by_user_id_the_frontend_way(
    client: Client, world: World, issuer: TokenIssuer
) -> None:
    grace = await sign_up(client, issuer, "grace")
    alan = await sign_up(client, issuer, "alan")
    await ask(client, grace, world.a)
    await ask(client, alan, world.a)
    base = f"/api/workspaces/{world.a}/members"
    approved = await client.post(f"{base}/{grace.user_id}/approve", headers=world.owner.headers)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["userId"]) == ("APPROVED", grace.user_id)
    rejected = await client.post(f"{base}/{alan.user_id}/reject", headers=world.owner.headers)
    assert rejected.json()["status"] == "REJECTED"
    members = await roles(client, world)
    assert grace.user_id in members
    assert alan.user_id not in members
    nothing_pending = await client.post(
        f"{base}/{alan.user_id}/approve", headers=world.owner.headers
    )
    assert_error(nothing_pending, 404, "NOT_FOUND")
    # After a rejection one may ask again.
    assert (await ask(client, alan, world.a)).status_code == 201
