"""Shared drives: raw DTOs that also carry {success, data}; members and permissions;
private drives stay out of listings and search for those who cannot open them."""

from __future__ import annotations

from tests.storage.support import Drive, assert_error, data
from tests.user.support import World

PROJECT_KEYS = {
    "id",
    "workspaceId",
    "name",
    "defaultPermission",
    "isPublic",
    "createdBy",
    "createdAt",
    "updatedAt",
    "isDeleted",
    "memberCount",
    "fileCount",
    "folderCount",
    "totalSize",
    "myPermission",
}


async def test_create_read_and_both_reply_forms(local_drive: Drive, world: World) -> None:
    drive = local_drive
    created = await drive.project(world.owner, world.a, "Design", description="assets")
    assert set(created) == PROJECT_KEYS | {"description", "success", "data"}
    assert created["data"] == {k: v for k, v in created.items() if k not in {"success", "data"}}
    assert (created["myPermission"], created["memberCount"], created["defaultPermission"]) == (
        "OWNER",
        1,
        "VIEWER",
    )
    got = await drive.client.get(
        f"/api/storage/projects/{created['id']}", headers=world.owner.headers
    )
    assert got.json()["data"]["name"] == "Design"
    listed = await drive.client.get(
        f"/api/storage/workspaces/{world.a}/projects", headers=world.owner.headers
    )
    body = listed.json()
    assert {"projects", "total", "page", "pageSize", "totalPages", "success", "data"} == set(body)
    assert [p["id"] for p in body["data"]] == [p["id"] for p in body["projects"]] == [created["id"]]
    mine = data(
        await drive.client.get(
            f"/api/storage/projects/{created['id']}/my-permission", headers=world.owner.headers
        )
    )
    assert mine == {"permission": "OWNER"}
    await drive.upload(
        world.owner,
        world.a,
        "logo.png",
        b"\x89PNG\r\n\x1a\nxx",
        "image/png",
        projectId=created["id"],
    )
    stats = data(
        await drive.client.get(
            f"/api/storage/projects/{created['id']}/stats", headers=world.owner.headers
        )
    )
    assert stats == {
        "projectId": created["id"],
        "fileCount": 1,
        "folderCount": 0,
        "totalSize": 10,
        "memberCount": 1,
    }


async def test_private_drives_stay_out_of_listings_and_search(
    local_drive: Drive, world: World
) -> None:
    drive = local_drive
    private = await drive.project(world.owner, world.a, "Payroll")
    public = await drive.project(world.owner, world.a, "Handbook", isPublic=True)
    await drive.upload(world.owner, world.a, "salaries.txt", b"numbers", projectId=private["id"])
    await drive.folder(world.owner, world.a, "salary-archive", projectId=private["id"])
    await drive.upload(
        world.owner, world.a, "salaries-policy.txt", b"rules", projectId=public["id"]
    )
    h = world.member.headers
    projects = (
        await drive.client.get(f"/api/storage/workspaces/{world.a}/projects", headers=h)
    ).json()
    assert [p["name"] for p in projects["projects"]] == ["Handbook"]
    assert projects["projects"][0]["myPermission"] == "VIEWER"
    files = data(await drive.client.get(f"/api/storage/workspaces/{world.a}/files", headers=h))
    assert [f["name"] for f in files["files"]] == ["salaries-policy.txt"]
    found = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files/search?query=salar&type=all", headers=h
        )
    )
    assert [f["name"] for f in found["files"]] == ["salaries-policy.txt"]
    assert found["folders"] == []
    owner_sees = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files/search?q=salar", headers=world.owner.headers
        )
    )
    assert sorted(f["name"] for f in owner_sees["files"]) == ["salaries-policy.txt", "salaries.txt"]
    assert [f["name"] for f in owner_sees["folders"]] == ["salary-archive"]
    folders = data(await drive.client.get(f"/api/storage/workspaces/{world.a}/folders", headers=h))
    assert folders == []
    assert_error(
        await drive.client.get(f"/api/storage/projects/{private['id']}", headers=h),
        404,
        "NOT_FOUND",
    )
    # a viewer of the public drive reads but may not write into it
    assert_error(
        await drive.issue(world.member, world.a, "x.txt", 1, projectId=public["id"]),
        403,
        "FORBIDDEN",
    )


async def test_members_and_permissions(local_drive: Drive, world: World) -> None:
    drive = local_drive
    project = await drive.project(world.owner, world.a, "Team")
    base = f"/api/storage/projects/{project['id']}/members"
    added = await drive.client.post(
        base,
        json={"userId": world.member.user_id, "permission": "EDITOR"},
        headers=world.owner.headers,
    )
    assert added.status_code == 201
    member = added.json()
    assert member["data"]["permission"] == "EDITOR" and member["userId"] == world.member.user_id
    assert_error(
        await drive.client.post(
            base,
            json={"userId": world.member.user_id, "permission": "VIEWER"},
            headers=world.owner.headers,
        ),
        409,
        "ALREADY_EXISTS",
    )
    assert_error(
        await drive.client.post(
            base,
            json={"userId": world.outsider.user_id, "permission": "VIEWER"},
            headers=world.owner.headers,
        ),
        400,
        "VALIDATION_ERROR",
    )
    # an editor adds viewers and editors, not owners; renames, but does not widen access
    assert (
        await drive.client.post(
            base,
            json={"userId": world.admin.user_id, "permission": "VIEWER"},
            headers=world.member.headers,
        )
    ).status_code == 201
    assert_error(
        await drive.client.put(
            f"{base}/{world.admin.user_id}",
            json={"permission": "OWNER"},
            headers=world.member.headers,
        ),
        403,
        "FORBIDDEN",
    )
    renamed = await drive.client.put(
        f"/api/storage/projects/{project['id']}",
        json={"name": "Team drive"},
        headers=world.member.headers,
    )
    assert renamed.json()["name"] == "Team drive"
    assert_error(
        await drive.client.put(
            f"/api/storage/projects/{project['id']}",
            json={"isPublic": True},
            headers=world.member.headers,
        ),
        403,
        "FORBIDDEN",
    )
    # the frontend addresses members by membership id; user ids work too
    changed = await drive.client.put(
        f"{base}/{member['id']}", json={"permission": "VIEWER"}, headers=world.owner.headers
    )
    assert changed.json()["permission"] == "VIEWER"
    listed = await drive.client.get(base, headers=world.admin.headers)
    assert {m["userId"] for m in listed.json()["members"]} == {
        world.owner.user_id,
        world.member.user_id,
        world.admin.user_id,
    }
    assert listed.json()["data"] == listed.json()["members"]
    # the last OWNER stays; members may leave
    assert_error(
        await drive.client.put(
            f"{base}/{world.owner.user_id}",
            json={"permission": "VIEWER"},
            headers=world.owner.headers,
        ),
        403,
        "FORBIDDEN",
    )
    assert_error(
        await drive.client.delete(f"{base}/{world.owner.user_id}", headers=world.owner.headers),
        409,
        "CONFLICT",
    )
    assert (
        await drive.client.delete(f"{base}/{world.admin.user_id}", headers=world.admin.headers)
    ).status_code == 204
    assert_error(
        await drive.client.delete(f"{base}/{world.owner.user_id}", headers=world.member.headers),
        403,
        "FORBIDDEN",
    )


async def test_deleting_a_drive_removes_its_files(drive: Drive, world: World) -> None:
    project = await drive.project(world.owner, world.a, "Temporary")
    folder = await drive.folder(world.owner, world.a, "stuff", projectId=project["id"])
    await drive.upload(world.owner, world.a, "a.txt", folderId=folder["id"])
    await drive.upload(world.owner, world.a, "b.txt", projectId=project["id"])
    assert len(await drive.keys(f"storage/{world.a}/")) == 2
    member_try = await drive.client.delete(
        f"/api/storage/projects/{project['id']}", headers=world.member.headers
    )
    assert_error(member_try, 404, "NOT_FOUND")
    gone = await drive.client.delete(
        f"/api/storage/projects/{project['id']}", headers=world.owner.headers
    )
    assert gone.status_code == 204
    assert await drive.keys(f"storage/{world.a}/") == []
    assert_error(
        await drive.client.get(
            f"/api/storage/projects/{project['id']}", headers=world.owner.headers
        ),
        404,
        "NOT_FOUND",
    )
