"""Folders: create where one may edit, rename and move with their subtree, and the checks
that keep the tree a tree."""

from __future__ import annotations

from tests.storage.support import Drive, assert_error, data
from tests.user.support import World

NIL = "00000000-0000-0000-0000-000000000000"


async def test_move_and_rename_carry_the_subtree(local_drive: Drive, world: World) -> None:
    drive, h = local_drive, world.member.headers
    a = await drive.folder(world.member, world.a, "A", color="#ff0000")
    b = await drive.folder(world.member, world.a, "B")
    inner = await drive.folder(world.member, world.a, "inner", parentId=a["id"])
    deep = await drive.folder(world.member, world.a, "deep", parentId=inner["id"])
    assert (a["color"], deep["path"]) == ("#ff0000", "/A/inner/deep")
    moved = data(
        await drive.client.put(
            f"/api/storage/folders/{inner['id']}",
            json={"parentId": b["id"], "name": "moved"},
            headers=h,
        )
    )
    assert (moved["parentId"], moved["path"]) == (b["id"], "/B/moved")
    assert (
        data(await drive.client.get(f"/api/storage/folders/{deep['id']}", headers=h))["path"]
        == "/B/moved/deep"
    )
    to_root = data(
        await drive.client.put(
            f"/api/storage/folders/{inner['id']}", json={"parentId": NIL}, headers=h
        )
    )
    assert (to_root.get("parentId"), to_root["path"]) == (None, "/moved")
    assert (
        data(await drive.client.get(f"/api/storage/folders/{deep['id']}", headers=h))["path"]
        == "/moved/deep"
    )


async def test_the_tree_stays_a_tree(local_drive: Drive, world: World) -> None:
    drive, h = local_drive, world.member.headers
    top = await drive.folder(world.member, world.a, "top")
    child = await drive.folder(world.member, world.a, "child", parentId=top["id"])
    await drive.folder(world.member, world.a, "sibling")
    into_child = await drive.client.put(
        f"/api/storage/folders/{top['id']}", json={"parentId": child["id"]}, headers=h
    )
    assert_error(into_child, 400, "VALIDATION_ERROR")
    into_itself = await drive.client.put(
        f"/api/storage/folders/{top['id']}", json={"parentId": top["id"]}, headers=h
    )
    assert_error(into_itself, 400, "VALIDATION_ERROR")
    taken = await drive.client.put(
        f"/api/storage/folders/{top['id']}", json={"name": "sibling"}, headers=h
    )
    assert_error(taken, 409, "ALREADY_EXISTS")
    drive_id = (await drive.project(world.member, world.a, "Other drive"))["id"]
    other = await drive.folder(world.member, world.a, "elsewhere", projectId=drive_id)
    across = await drive.client.put(
        f"/api/storage/folders/{top['id']}", json={"parentId": other["id"]}, headers=h
    )
    assert_error(across, 400, "VALIDATION_ERROR")
    wrong_parent = await drive.client.post(
        "/api/storage/folders",
        json={"workspaceId": world.a, "name": "x", "parentId": child["id"], "projectId": drive_id},
        headers=h,
    )
    assert_error(wrong_parent, 400, "VALIDATION_ERROR")
    in_other_workspace = await drive.client.post(
        "/api/storage/folders",
        json={"workspaceId": world.b, "name": "x", "parentId": child["id"]},
        headers=world.other_admin.headers,
    )
    assert_error(in_other_workspace, 404, "NOT_FOUND")
    for bad in ({"name": ""}, {"name": "a/b"}, {"color": "red"}, {"unknown": 1}):
        response = await drive.client.put(f"/api/storage/folders/{top['id']}", json=bad, headers=h)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_files_move_and_rename(local_drive: Drive, world: World) -> None:
    drive, h = local_drive, world.member.headers
    folder = await drive.folder(world.member, world.a, "docs")
    file = await drive.upload(world.member, world.a, "a.txt")
    await drive.upload(world.member, world.a, "b.txt", folderId=folder["id"])
    moved = data(
        await drive.client.put(
            f"/api/storage/files/{file['id']}", json={"folderId": folder["id"]}, headers=h
        )
    )
    assert moved["folderId"] == folder["id"]
    assert_error(
        await drive.client.put(
            f"/api/storage/files/{file['id']}", json={"name": "b.txt"}, headers=h
        ),
        409,
        "ALREADY_EXISTS",
    )
    assert_error(
        await drive.client.put(
            f"/api/storage/files/{file['id']}", json={"name": "b.exe"}, headers=h
        ),
        400,
        "INVALID_FILE_TYPE",
    )
    back = data(
        await drive.client.put(
            f"/api/storage/files/{file['id']}", json={"folderId": NIL, "name": "c"}, headers=h
        )
    )
    assert (back.get("folderId"), back["name"]) == (None, "c.txt")
    listed = data(await drive.client.get(f"/api/storage/files/workspace/{world.a}/root", headers=h))
    assert [f["name"] for f in listed["files"]] == ["c.txt"]
    assert (listed["page"], listed["pageSize"], listed["total"], listed["totalPages"]) == (
        1,
        50,
        1,
        1,
    )
    in_folder = data(
        await drive.client.get(
            f"/api/storage/files/folder/{folder['id']}?page=1&pageSize=1", headers=h
        )
    )
    assert ([f["name"] for f in in_folder["files"]], in_folder["totalPages"]) == (["b.txt"], 1)
    assert_error(
        await drive.client.get(f"/api/storage/files/folder/{folder['id']}?pageSize=101", headers=h),
        400,
        "VALIDATION_ERROR",
    )


async def test_workspace_files_page_by_cursor(local_drive: Drive, world: World) -> None:
    drive, h = local_drive, world.member.headers
    for n in range(5):
        await drive.upload(world.member, world.a, f"n{n}.txt")
    first = data(
        await drive.client.get(f"/api/storage/workspaces/{world.a}/files?pageSize=2", headers=h)
    )
    assert [f["name"] for f in first["files"]] == ["n4.txt", "n3.txt"]
    assert (first["total"], first["totalPages"]) == (5, 3)
    second = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files?pageSize=2&cursor={first['nextCursor']}",
            headers=h,
        )
    )
    assert [f["name"] for f in second["files"]] == ["n2.txt", "n1.txt"]
    by_page = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files?pageSize=2&page=2", headers=h
        )
    )
    assert [f["name"] for f in by_page["files"]] == ["n2.txt", "n1.txt"]
    assert_error(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/files?cursor=garbage!", headers=h
        ),
        400,
        "VALIDATION_ERROR",
    )
