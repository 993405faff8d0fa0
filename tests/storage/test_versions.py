"""Versions: a new upload of a file keeps the old ones; list, download and restore them."""

from __future__ import annotations

from tests.storage.support import Drive, assert_error, data
from tests.user.support import World


async def new_version(
    drive: Drive, world: World, file_id: str, body: bytes, name: str | None = None
) -> dict:
    request = {"contentType": "text/plain", "fileSize": len(body)}
    if name:
        request["fileName"] = name
    issued = data(
        await drive.client.post(
            f"/api/storage/files/{file_id}/versions/upload-url",
            json=request,
            headers=world.member.headers,
        )
    )
    assert issued["fileId"] == file_id
    assert (await drive.put(issued["uploadUrl"], body, "text/plain")).status_code == 200
    return data(await drive.confirm(world.member, file_id, versionId=issued["versionId"]))


async def test_versions_are_kept_listed_downloaded_and_restored(drive: Drive, world: World) -> None:
    h = world.member.headers
    file = await drive.upload(world.member, world.a, "plan.txt", b"first draft")
    second = await new_version(drive, world, file["id"], b"second draft!", "plan-v2.txt")
    assert (second["version"], second["fileSize"], second["name"]) == (2, 13, "plan.txt")
    third = await new_version(drive, world, file["id"], b"third")
    assert third["version"] == 3

    versions = data(await drive.client.get(f"/api/storage/files/{file['id']}/versions", headers=h))
    assert [(v["version"], v["fileSize"], v["isCurrent"]) for v in versions] == [
        (3, 5, True),
        (2, 13, False),
        (1, 11, False),
    ]
    assert versions[1]["originalName"] == "plan-v2.txt"
    assert set(versions[0]) == {
        "versionId",
        "version",
        "fileSize",
        "contentType",
        "originalName",
        "uploadedBy",
        "createdAt",
        "isCurrent",
    }

    old = data(
        await drive.client.get(f"/api/storage/files/{file['id']}/versions/1/download", headers=h)
    )
    assert (await drive.get(old["downloadUrl"])).content == b"first draft"
    current = data(await drive.client.get(f"/api/storage/files/{file['id']}/download", headers=h))
    assert (await drive.get(current["downloadUrl"])).content == b"third"

    restored = data(
        await drive.client.post(f"/api/storage/files/{file['id']}/versions/1/restore", headers=h)
    )
    assert (restored["version"], restored["fileSize"]) == (1, 11)
    current = data(await drive.client.get(f"/api/storage/files/{file['id']}/download", headers=h))
    assert (await drive.get(current["downloadUrl"])).content == b"first draft"
    after = await new_version(drive, world, file["id"], b"fourth")
    assert after["version"] == 4  # numbering goes on after a restore
    assert len(await drive.keys(f"storage/{world.a}/{file['id']}/")) == 4

    assert_error(
        await drive.client.get(f"/api/storage/files/{file['id']}/versions/9/download", headers=h),
        404,
        "NOT_FOUND",
    )
    assert_error(
        await drive.client.post(f"/api/storage/files/{file['id']}/versions/0/restore", headers=h),
        400,
        "VALIDATION_ERROR",
    )


async def test_a_new_version_is_checked_like_a_first_upload(drive: Drive, world: World) -> None:
    file = await drive.upload(
        world.member, world.a, "pic.png", b"\x89PNG\r\n\x1a\n1234", "image/png"
    )
    issued = data(
        await drive.client.post(
            f"/api/storage/files/{file['id']}/versions/upload-url",
            json={"contentType": "image/png", "fileSize": 12},
            headers=world.member.headers,
        )
    )
    assert (await drive.put(issued["uploadUrl"], b"GIF89a123456", "image/png")).status_code == 200
    confirmed = await drive.confirm(world.member, file["id"], versionId=issued["versionId"])
    assert_error(confirmed, 400, "INVALID_FILE_TYPE")
    got = data(
        await drive.client.get(f"/api/storage/files/{file['id']}", headers=world.member.headers)
    )
    assert got["version"] == 1
    viewerless = await drive.client.post(
        f"/api/storage/files/{file['id']}/versions/upload-url",
        json={"contentType": "image/png", "fileSize": 12},
        headers=world.other_admin.headers,
    )
    assert_error(viewerless, 404, "NOT_FOUND")
