"""Uploads on both blob backends: the three steps, what the presigned PUT binds (T27), what
confirm checks, names, and what lists and usage count."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

from tests.storage.support import PNG, Drive, assert_error, data
from tests.user.support import World

FILE_KEYS = {
    "id",
    "workspaceId",
    "name",
    "originalName",
    "fileUrl",
    "fileSize",
    "contentType",
    "status",
    "version",
    "uploadedBy",
    "createdAt",
    "updatedAt",
    "isDeleted",
    "isImage",
    "isDocument",
    "extension",
}


async def test_the_three_steps(
    drive: Drive, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    issued = data(await drive.issue(world.member, world.a, "..Report.PNG", len(PNG), "image/png"))
    assert set(issued) == {
        "uploadUrl",
        "fileKey",
        "fileId",
        "versionId",
        "expiresAt",
        "contentType",
        "fileSize",
    }
    assert issued["fileKey"] == f"storage/{world.a}/{issued['fileId']}/{issued['versionId']}"
    assert "Report" not in issued["fileKey"]  # the key is the server's, never the file name
    cur = await db.execute("SELECT status FROM storage_files WHERE id = %s", (issued["fileId"],))
    assert await cur.fetchone() == ("UPLOADING",)

    assert (await drive.put(issued["uploadUrl"], PNG, "image/png")).status_code == 200
    file = data(await drive.confirm(world.member, issued["fileId"]))
    assert set(file) == FILE_KEYS  # no projectId/folderId at the workspace root
    assert (file["name"], file["originalName"]) == ("..Report.PNG", "..Report.PNG")
    assert (file["status"], file["version"], file["fileSize"]) == ("ACTIVE", 1, len(PNG))
    assert (file["isImage"], file["isDocument"], file["extension"]) == (True, False, ".png")
    assert file["uploadedBy"] == world.member.user_id
    assert file["fileUrl"].endswith(issued["fileKey"])

    download = data(
        await drive.client.get(
            f"/api/storage/files/{file['id']}/download", headers=world.owner.headers
        )
    )
    assert set(download) == {"downloadUrl", "expiresAt", "fileName"}
    fetched = await drive.get(download["downloadUrl"])
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert fetched.headers["content-type"].startswith("image/png")

    again = await drive.confirm(world.member, issued["fileId"])
    assert_error(again, 409, "CONFLICT")


async def test_url_lifetimes_are_short(drive: Drive, world: World) -> None:
    issued = data(await drive.issue(world.member, world.a, "a.txt", 3))
    query = parse_qs(urlsplit(issued["uploadUrl"]).query)
    lifetime = query["X-Amz-Expires"] if drive.backend == "s3" else None
    if lifetime is not None:
        assert int(lifetime[0]) <= 900
        assert set(query["X-Amz-SignedHeaders"][0].split(";")) >= {"content-length", "content-type"}
    await drive.put(issued["uploadUrl"], b"abc", "text/plain")
    file = data(await drive.confirm(world.member, issued["fileId"]))
    url = data(
        await drive.client.get(
            f"/api/storage/files/{file['id']}/download", headers=world.member.headers
        )
    )["downloadUrl"]
    query = parse_qs(urlsplit(url).query)
    if drive.backend == "s3":
        assert int(query["X-Amz-Expires"][0]) <= 300
    else:
        import time

        assert int(query["X-Expires"][0]) <= time.time() + 300


async def test_t27_the_presigned_put_refuses_what_was_not_declared(
    drive: Drive, world: World
) -> None:
    issued = data(await drive.issue(world.member, world.a, "photo.png", len(PNG), "image/png"))
    url = issued["uploadUrl"]
    assert (await drive.put(url, PNG + b"\x00", "image/png")).status_code == 403  # one byte over
    assert (await drive.put(url, PNG, "image/gif")).status_code == 403  # another type
    assert (await drive.put(url, PNG, "text/plain")).status_code == 403
    assert await drive.keys(f"storage/{world.a}/{issued['fileId']}/") == []
    assert_error(await drive.confirm(world.member, issued["fileId"]), 409, "UPLOAD_INCOMPLETE")


async def test_t27_an_expired_upload_url_is_refused(open_drive: Any, world: World) -> None:
    async with open_drive("local", upload_url_ttl_s=1) as drive:
        issued = data(await drive.issue(world.member, world.a, "late.txt", 4))
        await asyncio.sleep(2.1)  # expiry has one-second resolution
        refused = await drive.put(issued["uploadUrl"], b"late", "text/plain")
        assert_error(refused, 403, "REQUEST_EXPIRED")
        assert await drive.keys(f"storage/{world.a}/{issued['fileId']}/") == []


async def test_t27_a_key_of_another_workspace_is_unreachable(drive: Drive, world: World) -> None:
    theirs = await drive.upload(world.other_admin, world.b, "secret.txt", b"B's secret")
    mine = data(await drive.issue(world.member, world.a, "mine.txt", 10))
    # the signature covers the key: pointing my URL at their object is refused
    forged = mine["uploadUrl"].replace(mine["fileKey"], f"storage/{world.b}/{theirs['id']}/x")
    assert (await drive.put(forged, b"overwrite!", "text/plain")).status_code == 403
    # and no route hands out their object to me: confirm, read, download, version, share
    assert_error(await drive.confirm(world.member, theirs["id"]), 404, "NOT_FOUND")
    for path in (
        f"/api/storage/files/{theirs['id']}",
        f"/api/storage/files/{theirs['id']}/download",
        f"/api/storage/files/{theirs['id']}/versions/1/download",
    ):
        response = await drive.client.get(path, headers=world.member.headers)
        assert_error(response, 404, "NOT_FOUND")
        assert "secret" not in response.text
    # uploading "into" their workspace with my token is refused before any URL exists
    assert_error(await drive.issue(world.member, world.b, "in.txt", 3), 404, "NOT_FOUND")
    listed = await drive.keys(f"storage/{world.b}/")
    assert len(listed) == 1  # only their object


async def test_confirm_checks_the_object(drive: Drive, world: World) -> None:
    issued = data(await drive.issue(world.member, world.a, "fake.png", len(PNG), "image/png"))
    assert_error(await drive.confirm(world.member, issued["fileId"]), 409, "UPLOAD_INCOMPLETE")
    fake = b"not a png at all".ljust(len(PNG), b"!")
    assert (await drive.put(issued["uploadUrl"], fake, "image/png")).status_code == 200
    assert_error(await drive.confirm(world.member, issued["fileId"]), 400, "INVALID_FILE_TYPE")
    # someone else may not confirm my upload, not even a workspace owner
    assert_error(await drive.confirm(world.owner, issued["fileId"]), 404, "NOT_FOUND")
    listed = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files", headers=world.member.headers
        )
    )
    assert listed["files"] == []  # never ACTIVE


async def test_declarations_are_validated(drive: Drive, world: World) -> None:
    path = "/api/storage/files/upload-url"
    for body, code in (
        (
            {"fileName": "a.exe", "contentType": "application/octet-stream", "fileSize": 1},
            "INVALID_FILE_TYPE",
        ),
        ({"fileName": "noext", "contentType": "text/plain", "fileSize": 1}, "INVALID_FILE_TYPE"),
        ({"fileName": "a.txt", "contentType": "text/plain", "fileSize": 0}, "VALIDATION_ERROR"),
        (
            {"fileName": "a.txt", "contentType": "text/plain", "fileSize": 100 * 1024 * 1024 + 1},
            "VALIDATION_ERROR",
        ),
        ({"fileName": "a.txt", "contentType": "not a type", "fileSize": 1}, "VALIDATION_ERROR"),
        ({"fileName": "a/b.txt", "contentType": "text/plain", "fileSize": 1}, "VALIDATION_ERROR"),
        ({"fileName": "", "contentType": "text/plain", "fileSize": 1}, "VALIDATION_ERROR"),
        ({"contentType": "text/plain", "fileSize": 1}, "VALIDATION_ERROR"),
        (
            {"fileName": "a.txt", "contentType": "text/plain", "fileSize": 1, "extra": 1},
            "VALIDATION_ERROR",
        ),
    ):
        response = await drive.client.post(
            path, json={"workspaceId": world.a, **body}, headers=world.member.headers
        )
        assert_error(response, 400, code)


async def test_taken_names_get_a_number_before_the_extension(drive: Drive, world: World) -> None:
    names = [
        (await drive.upload(world.member, world.a, "report.pdf", b"%PDF-1.4 x", "application/pdf"))[
            "name"
        ]
        for _ in range(3)
    ]
    assert names == ["report.pdf", "report (1).pdf", "report (2).pdf"]
    single = await drive.upload(world.member, world.a, "unique.txt")
    assert single["name"] == "unique.txt"  # the original renamed every file: never again
    folders = [(await drive.folder(world.member, world.a, "Plans"))["name"] for _ in range(2)]
    assert folders == ["Plans", "Plans (1)"]


async def test_uploading_files_are_not_listed_or_counted(drive: Drive, world: World) -> None:
    await drive.upload(world.member, world.a, "done.txt", b"12345")
    pending = data(await drive.issue(world.member, world.a, "pending.txt", 1000))
    headers = world.member.headers
    listed = data(
        await drive.client.get(f"/api/storage/workspaces/{world.a}/files", headers=headers)
    )
    assert [f["name"] for f in listed["files"]] == ["done.txt"]
    root = data(
        await drive.client.get(
            f"/api/storage/folders/contents?workspaceId={world.a}", headers=headers
        )
    )
    assert [f["name"] for f in root["files"]] == ["done.txt"]
    usage = data(
        await drive.client.get(f"/api/storage/workspaces/{world.a}/usage", headers=headers)
    )
    assert (usage["totalSize"], usage["fileCount"]) == (5, 1)
    assert usage["usedBytes"] == 5 + 1000  # the pending upload reserves its quota
    assert_error(
        await drive.client.get(f"/api/storage/files/{pending['fileId']}", headers=headers),
        404,
        "NOT_FOUND",
    )


async def test_without_a_blob_store_uploads_say_so(open_drive: Any, world: World) -> None:
    async with open_drive("local", blob_dir="") as drive:
        assert_error(
            await drive.issue(world.member, world.a, "a.txt", 1), 503, "STORAGE_NOT_CONFIGURED"
        )
