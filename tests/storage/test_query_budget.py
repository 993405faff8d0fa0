"""Hot reads run a fixed number of queries, however much the drive holds."""

from __future__ import annotations

from tests.storage.support import Drive
from tests.user.support import World


async def round_trips(drive: Drive, path: str, world: World) -> int:
    database = drive.ctx.database
    before = database.calls
    response = await drive.client.get(path, headers=world.member.headers)
    assert response.status_code == 200, response.text
    return int(database.calls - before)


async def test_hot_reads_have_a_fixed_budget(local_drive: Drive, world: World) -> None:
    drive = local_drive
    folder = await drive.folder(world.member, world.a, "busy")
    paths = {
        f"/api/storage/folders/contents?workspaceId={world.a}&folderId={folder['id']}": 3,
        f"/api/storage/folders/contents?workspaceId={world.a}": 2,
        f"/api/storage/workspaces/{world.a}/files": 1,
        f"/api/storage/files/folder/{folder['id']}": 2,
        f"/api/storage/workspaces/{world.a}/usage": 1,
        "/api/storage/shared-with-me": 1,
    }
    before = {path: await round_trips(drive, path, world) for path in paths}
    for n in range(4):
        await drive.folder(world.member, world.a, f"sub{n}", parentId=folder["id"])
        await drive.upload(world.member, world.a, f"f{n}.txt", folderId=folder["id"])
        await drive.upload(world.member, world.a, f"r{n}.txt")
    after = {path: await round_trips(drive, path, world) for path in paths}
    assert before == after == paths
    file = await drive.upload(world.member, world.a, "one.txt")
    assert await round_trips(drive, f"/api/storage/files/{file['id']}", world) == 1
    assert await round_trips(drive, f"/api/storage/files/{file['id']}/download", world) == 1
