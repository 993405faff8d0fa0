"""Users: the caller's account, other users, and the routes closed to callers."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.user.support import KEY, Db, World, assert_error, new_email, sign_up

Client = AsyncTestClient[Litestar]
USER_KEYS = {"userId", "email", "name", "provider", "isActive", "createdAt", "updatedAt"}


async def test_me(client: Client, issuer: TokenIssuer) -> None:
    ada = await sign_up(client, issuer, "ada", name="Ada")
    me = await client.get("/api/users/me", headers=ada.headers)
    assert me.status_code == 200
    assert set(me.json()) == USER_KEYS
    assert (me.json()["userId"], me.json()["email"], me.json()["name"]) == (
        ada.user_id,
        ada.email,
        "Ada",
    )
    assert_error(await client.get("/api/users/me"), 401, "UNAUTHORIZED")


async def test_other_users_are_visible_only_to_people_sharing_a_workspace(
    client: Client, world: World
) -> None:
    seen = await client.get(f"/api/users/{world.member.user_id}", headers=world.admin.headers)
    assert seen.json()["email"] == world.member.email
    for actor in (world.outsider, world.other_admin):
        hidden = await client.get(f"/api/users/{world.member.user_id}", headers=actor.headers)
        assert_error(hidden, 404, "NOT_FOUND")


async def test_update_only_oneself_and_never_the_email(client: Client, world: World) -> None:
    path = f"/api/users/{world.member.user_id}"
    other = await client.put(path, json={"name": "Hacked"}, headers=world.owner.headers)
    assert_error(other, 403, "FORBIDDEN")
    renamed = await client.put(
        path,
        json={"name": "Mia", "email": world.member.email.upper()},
        headers=world.member.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Mia"
    takeover = await client.put(path, json={"email": new_email()}, headers=world.member.headers)
    assert_error(takeover, 400, "VALIDATION_ERROR")


async def test_delete_me(client: Client, world: World, db: Db) -> None:
    owner = await client.delete("/api/users/me", headers=world.owner.headers)
    assert_error(owner, 409, "CONFLICT")
    deleted = await client.delete("/api/users/me", headers=world.member.headers)
    assert deleted.json() == {"message": "user deleted"}
    assert_error(await client.get("/api/users/me", headers=world.member.headers), 404, "NOT_FOUND")
    listed = await client.get(f"/api/workspaces/{world.a}/members", headers=world.owner.headers)
    assert world.member.user_id not in [m["userId"] for m in listed.json()]
    cur = await db.execute(
        "SELECT count(*) FROM outbox WHERE event_type = 'workspace.member_removed'"
        " AND payload->>'userId' = %s",
        (world.member.user_id,),
    )
    assert (await cur.fetchone() or [0])[0] == 1


async def test_create_and_restore_need_the_internal_key(
    client: Client, world: World, issuer: TokenIssuer
) -> None:
    email = new_email()
    body = {"email": email, "googleId": "g-123" + email}
    assert_error(await client.post("/api/users", json=body), 401, "UNAUTHORIZED")
    as_user = await client.post("/api/users", json=body, headers=world.owner.headers)
    assert_error(as_user, 401, "UNAUTHORIZED")
    created = await client.post("/api/users", json=body, headers=KEY)
    assert created.status_code == 201, created.text
    assert created.json()["provider"] == "google"
    assert created.json()["googleId"] == body["googleId"]
    assert_error(await client.post("/api/users", json=body, headers=KEY), 409, "ALREADY_EXISTS")

    await client.delete("/api/users/me", headers=world.member.headers)
    path = f"/api/users/{world.member.user_id}/restore"
    assert_error(await client.put(path, headers=world.member.headers), 401, "UNAUTHORIZED")
    assert_error(await client.put(path, headers=world.owner.headers), 401, "UNAUTHORIZED")
    restored = await client.put(path, headers=KEY)
    assert restored.status_code == 200
    assert restored.json()["isActive"] is True
    assert "deletedAt" not in restored.json()
