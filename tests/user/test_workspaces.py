"""Workspaces: create, list, discover, read, change, delete, default."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.user.support import Db, World, assert_error, create_workspace, sign_up

Client = AsyncTestClient[Litestar]
WORKSPACE_KEYS = {
    "workspaceId",
    "ownerId",
    "workspaceName",
    "workspaceDescription",
    "isPublic",
    "needApproved",
    "isActive",
    "createdAt",
    "ownerNickName",
    "ownerEmail",
}


async def test_create_makes_the_caller_owner_with_a_profile(
    client: Client, issuer: TokenIssuer, db: Db
) -> None:
    ada = await sign_up(client, issuer, "ada", name="Ada Lovelace")
    response = await client.post(
        "/api/workspaces/create",
        json={"workspaceName": "  Engines  ", "workspaceDescription": "analytical"},
        headers=ada.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == WORKSPACE_KEYS
    assert body["workspaceName"] == "Engines"
    assert body["ownerId"] == ada.user_id
    assert body["ownerNickName"] == "Ada Lovelace"
    assert body["ownerEmail"] == ada.email
    assert (body["isPublic"], body["needApproved"], body["isActive"]) == (True, True, True)

    listed = (await client.get("/api/workspaces/all", headers=ada.headers)).json()
    assert listed == [
        {
            "workspaceId": body["workspaceId"],
            "workspaceName": "Engines",
            "workspaceDescription": "analytical",
            "owner": True,
            "role": "OWNER",
            "createdAt": body["createdAt"],
            "isDefault": True,
        }
    ]
    profile = await client.get(
        "/api/profiles/me", headers=ada.bearer(**{"X-Workspace-Id": body["workspaceId"]})
    )
    assert profile.json()["nickName"] == "Ada Lovelace"

    second = await create_workspace(client, ada, "Second")
    listed = (await client.get("/api/workspaces/all", headers=ada.headers)).json()
    assert [(w["workspaceId"], w["isDefault"]) for w in listed] == [
        (body["workspaceId"], True),
        (second, False),
    ]


async def test_create_validates_its_input(client: Client, issuer: TokenIssuer) -> None:
    ada = await sign_up(client, issuer, "ada")
    for body in (
        {},
        {"workspaceName": "   "},
        {"workspaceName": "x" * 101},
        {"workspaceName": "ok", "workspaceDescription": "d" * 1001},
        {"workspaceName": "bad\x07name"},
        {"workspaceName": 5},
        {"workspaceName": "ok", "isPublic": "yes"},
    ):
        response = await client.post("/api/workspaces/create", json=body, headers=ada.headers)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_the_list_holds_only_active_memberships(client: Client, world: World) -> None:
    mine = (await client.get("/api/workspaces/all", headers=world.member.headers)).json()
    assert [(w["workspaceId"], w["role"], w["owner"]) for w in mine] == [(world.a, "MEMBER", False)]
    assert (await client.get("/api/workspaces/all", headers=world.outsider.headers)).json() == []


async def test_detail_and_settings_are_for_members_only(client: Client, world: World) -> None:
    for actor in (world.owner, world.admin, world.member):
        detail = await client.get(f"/api/workspaces/{world.a}", headers=actor.headers)
        assert detail.status_code == 200
        assert detail.json()["workspaceName"] == "Alpha team"
        settings = await client.get(f"/api/workspaces/{world.a}/settings", headers=actor.headers)
        assert settings.json() == {
            "workspaceId": world.a,
            "workspaceName": "Alpha team",
            "workspaceDescription": None,
            "isPublic": True,
            "requiresApproval": True,
            "onlyOwnerCanInvite": True,
        }
    # Public is discoverable, never readable.
    for actor in (world.outsider, world.other_admin):
        for path in (f"/api/workspaces/{world.a}", f"/api/workspaces/{world.a}/settings"):
            assert_error(await client.get(path, headers=actor.headers), 404, "NOT_FOUND")


async def test_owner_and_admins_change_the_workspace(client: Client, world: World) -> None:
    changed = await client.put(
        f"/api/workspaces/ids/{world.a}",
        json={"workspaceName": "Alpha squad", "isPublic": False, "ownerId": world.member.user_id},
        headers=world.admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["workspaceName"] == "Alpha squad"
    assert changed.json()["isPublic"] is False
    assert changed.json()["ownerId"] == world.owner.user_id  # not assignable

    settings = await client.put(
        f"/api/workspaces/{world.a}/settings",
        json={"requiresApproval": False, "onlyOwnerCanInvite": False, "workspaceDescription": "d"},
        headers=world.owner.headers,
    )
    assert settings.json() == {
        "workspaceId": world.a,
        "workspaceName": "Alpha squad",
        "workspaceDescription": "d",
        "isPublic": False,
        "requiresApproval": False,
        "onlyOwnerCanInvite": False,
    }
    cleared = await client.put(
        f"/api/workspaces/{world.a}/settings",
        json={"workspaceDescription": ""},
        headers=world.owner.headers,
    )
    assert cleared.json()["workspaceDescription"] is None

    for path in (f"/api/workspaces/ids/{world.a}", f"/api/workspaces/{world.a}/settings"):
        refused = await client.put(path, json={"workspaceName": "x"}, headers=world.member.headers)
        assert_error(refused, 403, "FORBIDDEN")


async def test_only_the_owner_deletes(client: Client, world: World, db: Db) -> None:
    for actor in (world.admin, world.member):
        response = await client.delete(f"/api/workspaces/{world.a}", headers=actor.headers)
        assert_error(response, 403, "FORBIDDEN")
    deleted = await client.delete(f"/api/workspaces/{world.a}", headers=world.owner.headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "workspace deleted"}
    for actor in (world.owner, world.member):
        assert (await client.get("/api/workspaces/all", headers=actor.headers)).json() == []
        gone = await client.get(f"/api/workspaces/{world.a}", headers=actor.headers)
        assert_error(gone, 404, "NOT_FOUND")
    event = await db.execute(
        "SELECT payload FROM outbox WHERE event_type = 'workspace.deleted'"
        " AND payload->>'workspaceId' = %s",
        (world.a,),
    )
    payload: Any = (await event.fetchone() or [None])[0]
    assert payload["deletedBy"] == world.owner.user_id
    assert sorted(payload["memberIds"]) == sorted(
        [world.owner.user_id, world.admin.user_id, world.member.user_id]
    )


async def test_search_finds_public_workspaces_only(client: Client, issuer: TokenIssuer) -> None:
    ada = await sign_up(client, issuer, "ada", name="Ada")
    tag = uuid.uuid4().hex[:8]
    public = await create_workspace(client, ada, f"Orbit {tag} public")
    await create_workspace(client, ada, f"Orbit {tag} private", isPublic=False)
    await create_workspace(client, ada, f"Orbit {tag} 100%")
    searcher = await sign_up(client, issuer, "searcher")
    found = await client.get(f"/api/workspaces/public/orbit {tag}", headers=searcher.headers)
    assert found.status_code == 200
    names = [w["workspaceName"] for w in found.json()]
    assert names == [f"Orbit {tag} 100%", f"Orbit {tag} public"]
    entry = next(w for w in found.json() if w["workspaceId"] == public)
    assert entry["ownerNickName"] == "Ada"
    assert "ownerEmail" not in entry  # a stranger sees no email
    wildcard = await client.get("/api/workspaces/public/%25", headers=searcher.headers)
    assert all("%" in w["workspaceName"] for w in wildcard.json())


async def test_default_workspace(client: Client, world: World, issuer: TokenIssuer) -> None:
    second = await create_workspace(client, world.member, "Member's own")
    response = await client.post(
        "/api/workspaces/default", json={"workspaceId": second}, headers=world.member.headers
    )
    assert response.json() == {"message": "default workspace set"}
    listed = (await client.get("/api/workspaces/all", headers=world.member.headers)).json()
    assert [(w["workspaceId"], w["isDefault"]) for w in listed] == [
        (second, True),
        (world.a, False),
    ]
    refused = await client.post(
        "/api/workspaces/default", json={"workspaceId": world.b}, headers=world.member.headers
    )
    assert_error(refused, 404, "NOT_FOUND")
    listed = (await client.get("/api/workspaces/all", headers=world.member.headers)).json()
    assert listed[0]["workspaceId"] == second  # the refused change left the default alone


async def test_bad_ids_are_400(client: Client, world: World) -> None:
    for path in ("/api/workspaces/not-a-uuid", "/api/workspaces/123/settings"):
        assert_error(await client.get(path, headers=world.owner.headers), 400, "VALIDATION_ERROR")
