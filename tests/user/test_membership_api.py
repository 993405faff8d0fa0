"""The internal membership answer, its Redis cache, and validate-member."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from tests.user.support import KEY, World, assert_error, invite, member_id_of
from wealist.contracts.membership import SET_IF_NEWER, Membership, membership_key

Client = AsyncTestClient[Litestar]


async def cached(redis: Redis, workspace_id: str, user_id: str) -> Membership | None:
    raw = await redis.get(membership_key(workspace_id, user_id))
    return None if raw is None else msgspec.json.decode(raw, type=Membership)


async def ask(client: Client, workspace_id: str, user_id: str) -> dict[str, object]:
    response = await client.get(
        f"/api/internal/workspaces/{workspace_id}/members/{user_id}", headers=KEY
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_answer_and_the_cache_agree(client: Client, world: World, redis: Redis) -> None:
    answer = await ask(client, world.a, world.admin.user_id)
    assert answer == {
        "workspaceId": world.a,
        "userId": world.admin.user_id,
        "isMember": True,
        "role": "ADMIN",
        "version": answer["version"],
    }
    entry = await cached(redis, world.a, world.admin.user_id)
    assert entry is not None
    assert (entry.is_member, entry.role) == (True, "ADMIN")
    stranger = await ask(client, world.a, world.other_admin.user_id)
    assert (stranger["isMember"], stranger["role"], stranger["version"]) == (False, None, 0)
    assert (await cached(redis, world.a, world.other_admin.user_id)) is not None
    unauthenticated = await client.get(
        f"/api/internal/workspaces/{world.a}/members/{world.admin.user_id}"
    )
    assert_error(unauthenticated, 401, "UNAUTHORIZED")


async def test_every_change_rewrites_the_cache(client: Client, world: World, redis: Redis) -> None:
    await ask(client, world.a, world.outsider.user_id)  # cached: not a member
    assert (await invite(client, world.owner, world.a, world.outsider)).status_code == 201
    entry = await cached(redis, world.a, world.outsider.user_id)
    assert entry is not None
    assert (entry.is_member, entry.role) == (True, "MEMBER")

    member_id = await member_id_of(client, world.owner, world.a, world.outsider)
    await client.put(
        f"/api/workspaces/{world.a}/members/{member_id}/role",
        json={"roleName": "ADMIN"},
        headers=world.owner.headers,
    )
    entry = await cached(redis, world.a, world.outsider.user_id)
    assert entry is not None
    assert entry.role == "ADMIN"

    await client.delete(
        f"/api/workspaces/{world.a}/members/{member_id}", headers=world.owner.headers
    )
    entry = await cached(redis, world.a, world.outsider.user_id)
    assert entry is not None
    assert (entry.is_member, entry.role) == (False, None)

    await client.delete(f"/api/workspaces/{world.a}", headers=world.owner.headers)
    for who in (world.owner, world.admin, world.member):
        entry = await cached(redis, world.a, who.user_id)
        assert entry is not None
        assert not entry.is_member
        assert (await ask(client, world.a, who.user_id))["isMember"] is False


async def test_an_older_answer_never_overwrites_a_newer_one(redis: Redis, world: World) -> None:
    key = membership_key(world.a, world.member.user_id)
    script = redis.register_script(SET_IF_NEWER)
    newer = Membership(
        workspace_id=world.a, user_id=world.member.user_id, is_member=False, version=7
    )
    older = Membership(
        workspace_id=world.a, user_id=world.member.user_id, is_member=True, role="MEMBER", version=6
    )
    assert await script(keys=[key], args=[msgspec.json.encode(newer), 7, 60]) == 1
    assert await script(keys=[key], args=[msgspec.json.encode(older), 6, 60]) == 0
    entry = await cached(redis, world.a, world.member.user_id)
    assert entry == newer
    await redis.set(key, b"not json")  # a corrupt entry is replaced, not trusted
    assert await script(keys=[key], args=[msgspec.json.encode(older), 6, 60]) == 1


async def test_validate_member_answers_membership_only(client: Client, world: World) -> None:
    base = f"/api/workspaces/{world.a}/validate-member"
    yes = await client.get(f"{base}/{world.member.user_id}", headers=world.admin.headers)
    assert yes.json() == {"isMember": True}
    # A public workspace no longer makes everyone a "member".
    no = await client.get(f"{base}/{world.outsider.user_id}", headers=world.outsider.headers)
    assert no.json() == {"isMember": False}
    probing = await client.get(f"{base}/{world.member.user_id}", headers=world.other_admin.headers)
    assert_error(probing, 404, "NOT_FOUND")


async def test_the_directory_names_people_as_the_workspace_shows_them(
    client: Client, world: World
) -> None:
    made = await client.put(
        "/api/profiles/me",
        json={"nickName": "Ownie"},
        headers={**world.owner.headers, "X-Workspace-Id": world.a},
    )
    assert made.status_code == 200, made.text
    asked = {"userIds": [world.owner.user_id, world.member.user_id, str(uuid.uuid4())]}
    found = await client.post(
        f"/api/internal/workspaces/{world.a}/directory", json=asked, headers=KEY
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["workspaceId"], body["workspaceName"]) == (world.a, "Alpha team")
    people = {p["userId"]: p for p in body["people"]}
    assert set(people) == {world.owner.user_id, world.member.user_id}  # the unknown id: absent
    assert people[world.owner.user_id]["name"] == "Ownie"
    assert people[world.member.user_id] == {
        "userId": world.member.user_id,
        "name": "Member",
        "email": world.member.email,
    }
    gone = await client.post(
        f"/api/internal/workspaces/{uuid.uuid4()}/directory", json=asked, headers=KEY
    )
    assert gone.status_code == 404
    too_many = {"userIds": [str(uuid.uuid4()) for _ in range(201)]}
    refused = await client.post(
        f"/api/internal/workspaces/{world.a}/directory", json=too_many, headers=KEY
    )
    assert refused.status_code == 400
