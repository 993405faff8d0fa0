"""First light: one upload on each backend."""

from __future__ import annotations

from tests.storage.support import Drive
from tests.user.support import World


async def test_upload_and_download(drive: Drive, world: World) -> None:
    file = await drive.upload(world.member, world.a)
    assert file["status"] == "ACTIVE"
    got = await drive.client.get(
        f"/api/storage/files/{file['id']}/download", headers=world.owner.headers
    )
    assert got.status_code == 200, got.text
    fetched = await drive.get(got.json()["data"]["downloadUrl"])
    assert fetched.content == b"hello drive"
