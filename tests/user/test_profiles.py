"""Profiles: per workspace, with the "_default" fallback, visible to fellow members."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.user.support import World, assert_error, sign_up

Client = AsyncTestClient[Litestar]
DEFAULT = "00000000-0000-0000-0000-000000000000"
PROFILE_KEYS = {
    "profileId",
    "userId",
    "workspaceId",
    "nickName",
    "email",
    "createdAt",
    "updatedAt",
}


async def test_my_profile_falls_back_to_the_default_one(
    client: Client, issuer: TokenIssuer
) -> None:
    ada = await sign_up(client, issuer, "ada", name="Ada")
    assert_error(await client.get("/api/profiles/me", headers=ada.headers), 404, "NOT_FOUND")
    created = await client.put(
        "/api/profiles/me", json={"nickName": "  Countess  "}, headers=ada.headers
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert set(body) == PROFILE_KEYS
    assert (body["workspaceId"], body["nickName"], body["email"]) == (
        DEFAULT,
        "Countess",
        ada.email,
    )
    some_workspace = "6f1c2a4e-9b7d-4c1e-8f2a-3d5b7c9e1f20"
    fallback = await client.get(
        "/api/profiles/me", headers=ada.bearer(**{"X-Workspace-Id": some_workspace})
    )
    assert fallback.json()["profileId"] == body["profileId"]
    bad = await client.get("/api/profiles/me", headers=ada.bearer(**{"X-Workspace-Id": "nope"}))
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_profile_per_workspace(client: Client, world: World) -> None:
    header = world.member.bearer(**{"X-Workspace-Id": world.a})
    mine = await client.get("/api/profiles/me", headers=header)
    assert (mine.json()["workspaceId"], mine.json()["nickName"]) == (world.a, "Member")
    changed = await client.put(
        "/api/profiles/me",
        json={"nickName": "Mem", "profileImageUrl": "https://cdn.example.com/m.png"},
        headers=header,
    )
    assert changed.json()["nickName"] == "Mem"
    assert changed.json()["profileImageUrl"] == "https://cdn.example.com/m.png"
    kept = await client.put("/api/profiles/me", json={}, headers=header)
    assert kept.json()["profileImageUrl"] == "https://cdn.example.com/m.png"
    cleared = await client.put("/api/profiles/me", json={"profileImageUrl": ""}, headers=header)
    assert "profileImageUrl" not in cleared.json()
    for body in (
        {"profileImageUrl": "javascript:alert(1)"},
        {"nickName": ""},
        {"nickName": "n" * 51},
    ):
        bad = await client.put("/api/profiles/me", json=body, headers=header)
        assert_error(bad, 400, "VALIDATION_ERROR")

    # Fellow members see it (in the members list too); others do not.
    seen = await client.get(
        f"/api/profiles/workspace/{world.a}/user/{world.member.user_id}",
        headers=world.admin.headers,
    )
    assert seen.json()["nickName"] == "Mem"
    listed = await client.get(f"/api/workspaces/{world.a}/members", headers=world.owner.headers)
    assert {m["userId"]: m["nickName"] for m in listed.json()}[world.member.user_id] == "Mem"
    for actor in (world.outsider, world.other_admin):
        hidden = await client.get(
            f"/api/profiles/workspace/{world.a}/user/{world.member.user_id}", headers=actor.headers
        )
        assert_error(hidden, 404, "NOT_FOUND")
    # A member may not write a profile into a workspace they are not in.
    elsewhere = await client.put(
        "/api/profiles/me",
        json={"nickName": "x"},
        headers=world.member.bearer(**{"X-Workspace-Id": world.b}),
    )
    assert_error(elsewhere, 404, "NOT_FOUND")
    # Nor read a non-member's profile through a workspace they share with nobody.
    stranger = await client.get(
        f"/api/profiles/workspace/{world.a}/user/{world.other_admin.user_id}",
        headers=world.member.headers,
    )
    assert_error(stranger, 404, "NOT_FOUND")


async def test_create_list_and_delete(client: Client, world: World) -> None:
    exists = await client.post(
        "/api/profiles",
        json={"workspaceId": world.a, "nickName": "Again", "email": world.member.email},
        headers=world.member.headers,
    )
    assert_error(exists, 409, "ALREADY_EXISTS")
    not_member = await client.post(
        "/api/profiles",
        json={"workspaceId": world.b, "nickName": "Sneaky", "email": world.member.email},
        headers=world.member.headers,
    )
    assert_error(not_member, 404, "NOT_FOUND")
    deleted = await client.delete(
        f"/api/profiles/workspace/{world.a}", headers=world.member.headers
    )
    assert deleted.json() == {"message": "profile deleted"}
    again = await client.delete(f"/api/profiles/workspace/{world.a}", headers=world.member.headers)
    assert_error(again, 404, "NOT_FOUND")
    created = await client.post(
        "/api/profiles",
        json={"workspaceId": world.a, "nickName": "Back", "email": "spoof@example.com"},
        headers=world.member.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["email"] == world.member.email  # always the account's address
    everything = await client.get("/api/profiles/all/me", headers=world.member.headers)
    assert [(p["workspaceId"], p["nickName"]) for p in everything.json()] == [(world.a, "Back")]
