"""Trash and restore are recursive; permanent deletes remove the stored objects (checked by
listing the bucket, or the directory); the trash lists only what the caller may restore."""

from __future__ import annotations

from typing import Any

from tests.storage.support import Drive, assert_error, data
from tests.user.support import Actor, World


async def build_tree(drive: Drive, who: Actor, workspace: str, **where: str) -> dict[str, Any]:
    """top/ (a.txt) -> middle/ (b.txt) -> bottom/ (c.txt, d.txt)"""
    top = await drive.folder(who, workspace, "top", **where)
    middle = await drive.folder(who, workspace, "middle", parentId=top["id"])
    bottom = await drive.folder(who, workspace, "bottom", parentId=middle["id"])
    files = {
        "a": await drive.upload(who, workspace, "a.txt", b"a" * 3, folderId=top["id"]),
        "b": await drive.upload(who, workspace, "b.txt", b"b" * 5, folderId=middle["id"]),
        "c": await drive.upload(who, workspace, "c.txt", b"c" * 7, folderId=bottom["id"]),
        "d": await drive.upload(who, workspace, "d.txt", b"d" * 11, folderId=bottom["id"]),
    }
    return {"top": top, "middle": middle, "bottom": bottom, "files": files}


async def contents(drive: Drive, who: Actor, workspace: str, folder: str | None = None) -> Any:
    query = f"workspaceId={workspace}" + (f"&folderId={folder}" if folder else "")
    return data(
        await drive.client.get(f"/api/storage/folders/contents?{query}", headers=who.headers)
    )


async def test_a_three_level_tree_is_trashed_and_restored_whole(drive: Drive, world: World) -> None:
    tree = await build_tree(drive, world.member, world.a)
    assert tree["bottom"]["path"] == "/top/middle/bottom"
    before = await contents(drive, world.member, world.a, tree["bottom"]["id"])
    assert [f["name"] for f in before["files"]] == ["c.txt", "d.txt"]

    trashed = await drive.client.delete(
        f"/api/storage/folders/{tree['top']['id']}", headers=world.member.headers
    )
    assert trashed.status_code == 200
    assert trashed.json() == {"success": True, "message": "Folder moved to trash"}
    root = await contents(drive, world.member, world.a)
    assert root["children"] == [] and root["files"] == []
    for folder in ("top", "middle", "bottom"):
        gone = await drive.client.get(
            f"/api/storage/folders/contents?workspaceId={world.a}&folderId={tree[folder]['id']}",
            headers=world.member.headers,
        )
        assert_error(gone, 404, "NOT_FOUND")
    for file in tree["files"].values():
        got = data(
            await drive.client.get(f"/api/storage/files/{file['id']}", headers=world.member.headers)
        )
        assert (got["status"], got["isDeleted"]) == ("DELETED", True)
    trash = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/trash/folders", headers=world.member.headers
        )
    )
    assert [f["id"] for f in trash] == [tree["top"]["id"]]  # the one deletion, not its parts
    assert (
        data(
            await drive.client.get(
                f"/api/storage/workspaces/{world.a}/trash/files", headers=world.member.headers
            )
        )
        == []
    )
    usage = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/usage", headers=world.member.headers
        )
    )
    assert (usage["fileCount"], usage["trashSize"]) == (0, 26)

    restored = await drive.client.post(
        f"/api/storage/folders/{tree['top']['id']}/restore", headers=world.member.headers
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["message"] == "Folder restored"
    assert restored.json()["data"]["id"] == tree["top"]["id"]
    root = await contents(drive, world.member, world.a)
    assert [c["name"] for c in root["children"]] == ["top"]
    assert (root["children"][0]["fileCount"], root["children"][0]["folderCount"]) == (1, 1)
    middle = await contents(drive, world.member, world.a, tree["middle"]["id"])
    assert [c["name"] for c in middle["children"]] == ["bottom"]
    assert [f["name"] for f in middle["files"]] == ["b.txt"]
    bottom = await contents(drive, world.member, world.a, tree["bottom"]["id"])
    assert [f["name"] for f in bottom["files"]] == ["c.txt", "d.txt"]
    assert bottom["path"] == "/top/middle/bottom"
    assert (
        data(
            await drive.client.get(
                f"/api/storage/workspaces/{world.a}/trash/folders", headers=world.member.headers
            )
        )
        == []
    )


async def test_restore_brings_back_only_what_one_deletion_took(drive: Drive, world: World) -> None:
    tree = await build_tree(drive, world.member, world.a)
    h = world.member.headers
    await drive.client.delete(
        f"/api/storage/files/{tree['files']['c']['id']}", headers=h
    )  # on its own
    await drive.client.delete(f"/api/storage/folders/{tree['top']['id']}", headers=h)
    middle = await drive.client.post(
        f"/api/storage/folders/{tree['middle']['id']}/restore", headers=h
    )
    assert_error(middle, 409, "CONFLICT")  # it went with its parent
    await drive.client.post(f"/api/storage/folders/{tree['top']['id']}/restore", headers=h)
    bottom = await contents(drive, world.member, world.a, tree["bottom"]["id"])
    assert [f["name"] for f in bottom["files"]] == ["d.txt"]  # c.txt is still in the trash
    trash = data(
        await drive.client.get(f"/api/storage/workspaces/{world.a}/trash/files", headers=h)
    )
    assert [f["id"] for f in trash] == [tree["files"]["c"]["id"]]


async def test_restore_finds_a_free_name_and_a_live_place(drive: Drive, world: World) -> None:
    h = world.member.headers
    parent = await drive.folder(world.member, world.a, "parent")
    child = await drive.folder(world.member, world.a, "child", parentId=parent["id"])
    file = await drive.upload(world.member, world.a, "x.txt", folderId=child["id"])
    await drive.client.delete(f"/api/storage/files/{file['id']}", headers=h)
    await drive.upload(world.member, world.a, "x.txt", folderId=child["id"])  # takes its name
    restored = data(await drive.client.post(f"/api/storage/files/{file['id']}/restore", headers=h))
    assert (restored["name"], restored["folderId"]) == ("x (1).txt", child["id"])
    await drive.client.delete(f"/api/storage/folders/{child['id']}", headers=h)
    await drive.client.delete(f"/api/storage/folders/{parent['id']}", headers=h)  # parent after
    back = await drive.client.post(f"/api/storage/folders/{child['id']}/restore", headers=h)
    assert back.status_code == 200, back.text
    assert (back.json()["data"].get("parentId"), back.json()["data"]["path"]) == (None, "/child")
    moved = await contents(drive, world.member, world.a, child["id"])
    assert sorted(f["name"] for f in moved["files"]) == ["x (1).txt", "x.txt"]


async def test_permanent_delete_leaves_no_object_behind(drive: Drive, world: World) -> None:
    tree = await build_tree(drive, world.member, world.a)
    h = world.member.headers
    prefix = f"storage/{world.a}/"
    version = data(
        await drive.client.post(
            f"/api/storage/files/{tree['files']['c']['id']}/versions/upload-url",
            json={"contentType": "text/plain", "fileSize": 2},
            headers=h,
        )
    )
    await drive.put(version["uploadUrl"], b"v2", "text/plain")
    data(
        await drive.confirm(world.member, tree["files"]["c"]["id"], versionId=version["versionId"])
    )
    assert len(await drive.keys(prefix)) == 5  # four files, one with two versions
    await drive.client.delete(f"/api/storage/folders/{tree['top']['id']}", headers=h)
    purged = await drive.client.delete(
        f"/api/storage/folders/{tree['top']['id']}/permanent", headers=h
    )
    assert purged.json() == {"success": True, "message": "Folder permanently deleted"}
    assert await drive.keys(prefix) == []
    for folder in ("top", "middle", "bottom"):
        assert_error(
            await drive.client.get(f"/api/storage/folders/{tree[folder]['id']}", headers=h),
            404,
            "NOT_FOUND",
        )
    usage = data(await drive.client.get(f"/api/storage/workspaces/{world.a}/usage", headers=h))
    assert (usage["usedBytes"], usage["trashSize"]) == (0, 0)

    single = await drive.upload(world.member, world.a, "one.txt")
    gone = await drive.client.delete(f"/api/storage/files/{single['id']}/permanent", headers=h)
    assert gone.status_code == 200
    assert await drive.keys(prefix) == []


async def test_empty_trash(drive: Drive, world: World) -> None:
    h = world.member.headers
    tree = await build_tree(drive, world.member, world.a)
    loose = await drive.upload(world.member, world.a, "loose.txt")
    kept = await drive.upload(world.member, world.a, "kept.txt")
    await drive.client.delete(f"/api/storage/folders/{tree['top']['id']}", headers=h)
    await drive.client.delete(f"/api/storage/files/{loose['id']}", headers=h)
    emptied = await drive.client.delete(f"/api/storage/trash/workspace/{world.a}/empty", headers=h)
    assert emptied.status_code == 200, emptied.text
    assert emptied.json()["data"] == {"deletedFiles": 5, "deletedFolders": 3}
    remaining = await drive.keys(f"storage/{world.a}/")
    assert len(remaining) == 1
    assert remaining[0].startswith(f"storage/{world.a}/{kept['id']}/")
    assert (
        data(await drive.client.get(f"/api/storage/workspaces/{world.a}/trash/files", headers=h))
        == []
    )


async def test_the_trash_is_paged_by_cursor(drive: Drive, world: World) -> None:
    h = world.member.headers
    for n in range(3):
        file = await drive.upload(world.member, world.a, f"t{n}.txt")
        await drive.client.delete(f"/api/storage/files/{file['id']}", headers=h)
    first = await drive.client.get(
        f"/api/storage/workspaces/{world.a}/trash/files?limit=2", headers=h
    )
    assert [f["name"] for f in first.json()["data"]] == ["t2.txt", "t1.txt"]
    cursor = first.headers["x-next-cursor"]
    rest = await drive.client.get(
        f"/api/storage/workspaces/{world.a}/trash/files?limit=2&cursor={cursor}", headers=h
    )
    assert [f["name"] for f in rest.json()["data"]] == ["t0.txt"]
    assert "x-next-cursor" not in rest.headers
