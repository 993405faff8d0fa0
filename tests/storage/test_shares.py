"""Shares grant access (shared-with-me works), need the right to share, are listed only to
those who may manage them, and revocation works at once; public links download
anonymously through short-lived URLs, with an optional password."""

from __future__ import annotations

from typing import Any

import httpx

from tests.storage.support import Drive, assert_error, data
from tests.user.support import Actor, World, member_id_of

SHARE_KEYS = {
    "id",
    "entityType",
    "entityId",
    "entityName",
    "sharedById",
    "sharedByName",
    "permission",
    "isPublic",
    "isExpired",
    "passwordProtected",
    "createdAt",
    "updatedAt",
}


async def private_drive(drive: Drive, world: World) -> dict[str, Any]:
    """A drive of workspace A's owner that the member cannot open."""
    return await drive.project(world.owner, world.a, "Board only")


async def share(drive: Drive, who: Actor, **body: Any) -> Any:
    return await drive.client.post("/api/storage/shares", json=body, headers=who.headers)


async def test_a_share_grants_access_and_revoking_it_takes_it_away(
    drive: Drive, world: World
) -> None:
    project = await private_drive(drive, world)
    file = await drive.upload(
        world.owner, world.a, "minutes.txt", b"secret minutes", projectId=project["id"]
    )
    path = f"/api/storage/files/{file['id']}"
    assert_error(await drive.client.get(path, headers=world.member.headers), 404, "NOT_FOUND")

    created = await share(
        drive,
        world.owner,
        entityType="FILE",
        entityId=file["id"],
        sharedWithId=world.member.user_id,
        permission="VIEWER",
    )
    shared = data(created, 201)
    assert set(shared) == SHARE_KEYS | {"sharedWithId"}
    assert (shared["entityName"], shared["sharedById"], shared["isPublic"]) == (
        "minutes.txt",
        world.owner.user_id,
        False,
    )

    assert data(await drive.client.get(path, headers=world.member.headers))["name"] == "minutes.txt"
    url = data(await drive.client.get(f"{path}/download", headers=world.member.headers))[
        "downloadUrl"
    ]
    assert (await drive.get(url)).content == b"secret minutes"
    assert_error(
        await drive.client.put(path, json={"name": "mine.txt"}, headers=world.member.headers),
        403,
        "FORBIDDEN",
    )
    mine = data(await drive.client.get("/api/storage/shared-with-me", headers=world.member.headers))
    assert [(i["entityId"], i["entityName"], i["permission"]) for i in mine] == [
        (file["id"], "minutes.txt", "VIEWER")
    ]
    assert set(mine[0]) == {
        "entityType",
        "entityId",
        "entityName",
        "permission",
        "sharedById",
        "sharedByName",
        "sharedAt",
        "shareId",
        "workspaceId",
    }
    # a private drive's files stay out of the member's workspace listings, even shared ones
    listed = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files", headers=world.member.headers
        )
    )
    assert listed["files"] == []

    revoked = await drive.client.delete(
        f"/api/storage/shares/{shared['id']}", headers=world.owner.headers
    )
    assert revoked.json() == {"success": True, "message": "Share removed", "data": None}
    assert_error(await drive.client.get(path, headers=world.member.headers), 404, "NOT_FOUND")
    assert (
        data(await drive.client.get("/api/storage/shared-with-me", headers=world.member.headers))
        == []
    )


async def test_a_folder_share_reaches_inside_it(drive: Drive, world: World) -> None:
    project = await private_drive(drive, world)
    folder = await drive.folder(world.owner, world.a, "Specs", projectId=project["id"])
    inner = await drive.folder(world.owner, world.a, "Drafts", parentId=folder["id"])
    file = await drive.upload(world.owner, world.a, "draft.txt", folderId=inner["id"])
    data(
        await share(
            drive,
            world.owner,
            entityType="FOLDER",
            entityId=folder["id"],
            sharedWithId=world.member.user_id,
            permission="EDITOR",
        ),
        201,
    )
    contents = data(
        await drive.client.get(
            f"/api/storage/folders/contents?workspaceId={world.a}&folderId={inner['id']}",
            headers=world.member.headers,
        )
    )
    assert [f["name"] for f in contents["files"]] == ["draft.txt"]
    renamed = data(
        await drive.client.put(
            f"/api/storage/files/{file['id']}", json={"name": "final"}, headers=world.member.headers
        )
    )
    assert renamed["name"] == "final.txt"  # an EDITOR share may change it; the extension stays
    uploaded = await drive.upload(world.member, world.a, "added.txt", folderId=inner["id"])
    assert uploaded["folderId"] == inner["id"]


async def test_sharing_needs_the_right_to_share(drive: Drive, world: World) -> None:
    project = await private_drive(drive, world)
    file = await drive.upload(world.owner, world.a, "x.txt", projectId=project["id"])
    body = {
        "entityType": "FILE",
        "entityId": file["id"],
        "sharedWithId": world.admin.user_id,
        "permission": "EDITOR",
    }
    assert_error(await share(drive, world.member, **body), 404, "NOT_FOUND")  # cannot see it
    data(
        await share(
            drive,
            world.owner,
            **{**body, "sharedWithId": world.member.user_id, "permission": "VIEWER"},
        ),
        201,
    )
    assert_error(
        await share(drive, world.member, **body), 403, "FORBIDDEN"
    )  # a viewer cannot share
    assert_error(await share(drive, world.other_admin, **body), 404, "NOT_FOUND")
    outsider = {**body, "sharedWithId": world.outsider.user_id}
    assert_error(await share(drive, world.owner, **outsider), 400, "VALIDATION_ERROR")
    data(await share(drive, world.owner, **body), 201)
    assert_error(await share(drive, world.owner, **body), 409, "ALREADY_EXISTS")
    for bad in (
        {**body, "permission": "OWNER"},
        {**body, "isPublic": True},
        {"entityType": "FILE", "entityId": file["id"], "permission": "VIEWER"},
        {**body, "password": "secret"},
    ):
        assert_error(await share(drive, world.owner, **bad), 400, "VALIDATION_ERROR")


async def test_share_listings_and_changes_are_for_who_may_manage_them(
    drive: Drive, world: World
) -> None:
    file = await drive.upload(world.owner, world.a, "team.txt")  # the workspace drive: all edit
    created = data(
        await share(
            drive,
            world.owner,
            entityType="FILE",
            entityId=file["id"],
            sharedWithId=world.admin.user_id,
            permission="VIEWER",
        ),
        201,
    )
    link = data(
        await share(
            drive,
            world.owner,
            entityType="FILE",
            entityId=file["id"],
            isPublic=True,
            permission="VIEWER",
        ),
        201,
    )
    for path in (
        f"/api/storage/files/{file['id']}/shares",
        f"/api/storage/shares/entity/FILE/{file['id']}",
        f"/api/storage/shares/entity/file/{file['id']}",
    ):
        listed = data(await drive.client.get(path, headers=world.member.headers))
        assert [s["id"] for s in listed] == [created["id"], link["id"]]
        assert_error(
            await drive.client.get(path, headers=world.other_admin.headers), 404, "NOT_FOUND"
        )
    # update and delete work without ?type (the frontend never sends it)
    updated = await drive.client.put(
        f"/api/storage/shares/{created['id']}",
        json={"permission": "EDITOR"},
        headers=world.owner.headers,
    )
    assert updated.json()["message"] == "Share updated"
    assert updated.json()["data"]["permission"] == "EDITOR"
    assert_error(
        await drive.client.put(
            f"/api/storage/shares/{created['id']}?type=FOLDER",
            json={"permission": "VIEWER"},
            headers=world.owner.headers,
        ),
        404,
        "NOT_FOUND",
    )
    assert (
        data(
            await drive.client.get(
                f"/api/storage/shares/{created['id']}", headers=world.admin.headers
            )
        )["id"]
        == created["id"]
    )
    assert_error(
        await drive.client.get(
            f"/api/storage/shares/{created['id']}", headers=world.other_admin.headers
        ),
        404,
        "NOT_FOUND",
    )
    assert_error(
        await drive.client.delete(
            f"/api/storage/shares/{created['id']}", headers=world.other_admin.headers
        ),
        404,
        "NOT_FOUND",
    )


async def test_only_who_shared_it_or_a_workspace_admin_may_change_or_revoke_a_share(
    local_drive: Drive, world: World, users: httpx.AsyncClient
) -> None:
    """Editing the item is not enough: the owner's link, changed or revoked by a plain
    member who may edit the file, is refused (403) and stays as it was; the workspace's
    OWNER and ADMIN may change or revoke anybody's, also a link of someone who left."""
    drive = local_drive
    file = await drive.upload(world.owner, world.a, "plan.txt")  # the workspace drive: all edit
    body = {"entityType": "FILE", "entityId": file["id"], "isPublic": True}
    owners = data(await share(drive, world.owner, **body, permission="VIEWER"), 201)
    path = f"/api/storage/shares/{owners['id']}"

    async def owners_link() -> Any:
        return data(await drive.client.get(path, headers=world.owner.headers))

    before = await owners_link()
    member = world.member.headers
    assert_error(
        await drive.client.put(path, json={"permission": "EDITOR"}, headers=member),
        403,
        "FORBIDDEN",
    )
    assert_error(await drive.client.delete(path, headers=member), 403, "FORBIDDEN")
    assert await owners_link() == before
    assert data(await drive.client.get(path, headers=member))["id"] == owners["id"]  # may see it
    code = owners["shareLink"]
    assert data(await drive.client.get(f"/api/public/storage/share/{code}"))["file"]["id"]

    changed = await drive.client.put(
        path, json={"permission": "EDITOR"}, headers=world.admin.headers
    )
    assert data(changed)["permission"] == "EDITOR"
    members = data(await share(drive, world.member, **body, permission="VIEWER"), 201)
    assert (
        data(
            await drive.client.put(
                f"/api/storage/shares/{members['id']}",
                json={"permission": "EDITOR"},
                headers=world.owner.headers,
            )
        )["permission"]
        == "EDITOR"
    )
    data(await drive.client.delete(f"/api/storage/shares/{members['id']}", headers=member))

    # A member shares a link and leaves: an admin revokes it, and it stops working.
    leaked = data(await share(drive, world.member, **body, permission="VIEWER"), 201)
    membership = await member_id_of(users, world.owner, world.a, world.member)
    removed = await users.delete(
        f"/api/workspaces/{world.a}/members/{membership}", headers=world.owner.headers
    )
    assert removed.status_code == 200, removed.text
    public = f"/api/public/storage/share/{leaked['shareLink']}"
    assert data(await drive.client.get(public))["share"]["id"] == leaked["id"]  # still out there
    leaked_path = f"/api/storage/shares/{leaked['id']}"
    assert_error(await drive.client.delete(leaked_path, headers=member), 404, "NOT_FOUND")
    data(await drive.client.delete(leaked_path, headers=world.admin.headers))
    assert_error(await drive.client.get(public), 404, "NOT_FOUND")
    data(await drive.client.delete(path, headers=world.owner.headers))


async def test_a_workspace_admin_revokes_a_link_of_a_drive_they_cannot_open(
    local_drive: Drive, world: World
) -> None:
    """The admin may not open the private drive's file, yet sees, changes and revokes its
    link (what they may revoke, they may look at); a plain member outside the drive may do
    none of it (404)."""
    drive = local_drive
    project = await private_drive(drive, world)
    file = await drive.upload(world.owner, world.a, "x.txt", projectId=project["id"])
    link = data(
        await share(
            drive,
            world.owner,
            entityType="FILE",
            entityId=file["id"],
            isPublic=True,
            permission="VIEWER",
        ),
        201,
    )
    path = f"/api/storage/shares/{link['id']}"
    admin, member = world.admin.headers, world.member.headers
    assert_error(
        await drive.client.get(f"/api/storage/files/{file['id']}", headers=admin), 404, "NOT_FOUND"
    )
    assert data(await drive.client.get(path, headers=admin))["id"] == link["id"]
    assert_error(await drive.client.get(path, headers=member), 404, "NOT_FOUND")
    assert_error(
        await drive.client.put(path, json={"permission": "EDITOR"}, headers=member),
        404,
        "NOT_FOUND",
    )
    assert_error(await drive.client.delete(path, headers=member), 404, "NOT_FOUND")
    changed = await drive.client.put(path, json={"expiresInDays": 1}, headers=admin)
    assert data(changed)["linkExpiresAt"]
    data(await drive.client.delete(path, headers=admin))
    assert_error(await drive.client.get(path, headers=world.owner.headers), 404, "NOT_FOUND")


async def test_a_public_link_downloads_anonymously_until_revoked(
    drive: Drive, world: World
) -> None:
    file = await drive.upload(world.member, world.a, "flyer.txt", b"come to the party")
    link = data(
        await share(
            drive,
            world.member,
            entityType="FILE",
            entityId=file["id"],
            isPublic=True,
            permission="VIEWER",
            expiresInDays=7,
        ),
        201,
    )
    assert len(link["shareLink"]) == 32 and link["isPublic"] and link["linkExpiresAt"]
    code = link["shareLink"]
    meta = data(await drive.client.get(f"/api/public/storage/shares/link/{code}"))
    assert meta["entityName"] == "flyer.txt"
    details = data(await drive.client.get(f"/api/public/storage/share/{code}"))
    assert (details["share"]["id"], details["file"]["name"]) == (link["id"], "flyer.txt")
    assert (
        data(
            await drive.client.get(
                f"/api/storage/shares/link/{code}", headers=world.other_admin.headers
            )
        )["id"]
        == link["id"]
    )
    got = data(await drive.client.post(f"/api/public/storage/share/{code}/download", json={}))
    assert got["fileName"] == "flyer.txt"
    assert (await drive.get(got["downloadUrl"])).content == b"come to the party"

    await drive.client.delete(f"/api/storage/shares/{link['id']}", headers=world.member.headers)
    assert_error(await drive.client.get(f"/api/public/storage/share/{code}"), 404, "NOT_FOUND")
    assert_error(
        await drive.client.post(f"/api/public/storage/share/{code}/download", json={}),
        404,
        "NOT_FOUND",
    )


async def test_a_password_protects_the_download(drive: Drive, world: World) -> None:
    file = await drive.upload(world.member, world.a, "vault.txt", b"treasure")
    link = data(
        await share(
            drive,
            world.member,
            entityType="FILE",
            entityId=file["id"],
            isPublic=True,
            permission="VIEWER",
            password="open sesame",
        ),
        201,
    )
    assert link["passwordProtected"] is True
    path = f"/api/public/storage/share/{link['shareLink']}/download"
    assert_error(await drive.client.post(path, json={}), 401, "SHARE_PASSWORD_REQUIRED")
    assert_error(
        await drive.client.post(path, json={"password": "guess"}), 401, "SHARE_PASSWORD_REQUIRED"
    )
    got = data(await drive.client.post(path, json={"password": "open sesame"}))
    assert (await drive.get(got["downloadUrl"])).content == b"treasure"
    cleared = await drive.client.put(
        f"/api/storage/shares/{link['id']}", json={"password": None}, headers=world.member.headers
    )
    assert cleared.json()["data"]["passwordProtected"] is False
    assert data(await drive.client.post(path, json={}))["fileName"] == "vault.txt"


async def test_password_guesses_are_limited(open_drive: Any, world: World) -> None:
    async with open_drive("local", share_password_attempts_per_min=3) as drive:
        file = await drive.upload(world.member, world.a, "guarded.txt")
        link = data(
            await share(
                drive,
                world.member,
                entityType="FILE",
                entityId=file["id"],
                isPublic=True,
                permission="VIEWER",
                password="right one",
            ),
            201,
        )
        path = f"/api/public/storage/share/{link['shareLink']}/download"
        for _ in range(3):
            assert_error(
                await drive.client.post(path, json={"password": "wrong"}),
                401,
                "SHARE_PASSWORD_REQUIRED",
            )
        blocked = await drive.client.post(path, json={"password": "right one"})
        assert_error(blocked, 429, "TOO_MANY_REQUESTS")
        assert int(blocked.headers["retry-after"]) >= 1


async def test_expired_and_folder_links(drive: Drive, world: World, db: Any) -> None:
    folder = await drive.folder(world.member, world.a, "Public")
    inner = await drive.folder(world.member, world.a, "Inner", parentId=folder["id"])
    inside = await drive.upload(world.member, world.a, "in.txt", b"inside", folderId=inner["id"])
    outside = await drive.upload(world.member, world.a, "out.txt", b"outside")
    link = data(
        await share(
            drive,
            world.member,
            entityType="FOLDER",
            entityId=folder["id"],
            isPublic=True,
            permission="VIEWER",
        ),
        201,
    )
    path = f"/api/public/storage/share/{link['shareLink']}/download"
    assert (
        data(await drive.client.get(f"/api/public/storage/share/{link['shareLink']}"))["folder"][
            "name"
        ]
        == "Public"
    )
    assert_error(await drive.client.post(path, json={}), 400, "VALIDATION_ERROR")
    assert (
        data(await drive.client.post(path, json={"fileId": inside["id"]}))["fileName"] == "in.txt"
    )
    assert_error(await drive.client.post(path, json={"fileId": outside["id"]}), 404, "NOT_FOUND")
    await db.execute(
        "UPDATE storage_shares SET link_expires_at = now() - interval '1 second' WHERE id = %s",
        (link["id"],),
    )
    assert_error(
        await drive.client.get(f"/api/public/storage/shares/link/{link['shareLink']}"),
        403,
        "SHARE_EXPIRED",
    )
    assert_error(await drive.client.post(path, json={"fileId": inside["id"]}), 403, "SHARE_EXPIRED")
