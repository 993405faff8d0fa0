"""The scheduled cleanup: unconfirmed uploads past their time and objects whose rows are
gone are deleted, once each, however many replicas run it."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from tests.core.realtime.waiting import eventually
from tests.storage.support import Drive, data
from tests.user.support import World
from wealist.storage.actions.cleanup import do_cleanup, do_delete_doomed, do_expire_uploads


async def count(db: psycopg.AsyncConnection[Any], sql: str, *args: Any) -> int:
    cur = await db.execute(sql, args)  # type: ignore[arg-type]
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_orphaned_uploads_are_cleaned(
    drive: Drive, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    uploaded = data(await drive.issue(world.member, world.a, "never-confirmed.txt", 4))
    await drive.put(uploaded["uploadUrl"], b"left", "text/plain")
    abandoned = data(await drive.issue(world.member, world.a, "never-uploaded.txt", 4))
    fresh = data(await drive.issue(world.member, world.a, "still-going.txt", 4))
    await db.execute(
        "UPDATE storage_file_versions SET upload_expires_at = now() - interval '1 minute'"
        " WHERE file_id = ANY(%s)",
        ([uploaded["fileId"], abandoned["fileId"]],),
    )
    assert await drive.on_app(do_cleanup, drive.ctx) >= 3  # two uploads, one object
    assert await drive.keys(f"storage/{world.a}/{uploaded['fileId']}/") == []
    ids = [uploaded["fileId"], abandoned["fileId"], fresh["fileId"]]
    assert await count(db, "SELECT count(*) FROM storage_files WHERE id = ANY(%s)", ids) == 1
    usage = data(
        await drive.client.get(
            f"/api/storage/workspaces/{world.a}/usage", headers=world.member.headers
        )
    )
    assert usage["usedBytes"] == 4  # only the live reservation


async def test_replicas_share_the_work(
    local_drive: Drive, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    drive = local_drive
    ids = []
    for n in range(8):
        issued = data(await drive.issue(world.member, world.a, f"o{n}.txt", 2))
        await drive.put(issued["uploadUrl"], b"ok", "text/plain")
        ids.append(issued["fileId"])
    await db.execute(
        "UPDATE storage_file_versions SET upload_expires_at = now() - interval '1 minute'"
        " WHERE file_id = ANY(%s)",
        (ids,),
    )
    due = await count(
        db,
        "SELECT count(*) FROM storage_file_versions"
        " WHERE upload_expires_at < now() AND status = 'UPLOADING'",
    )

    async def replicas() -> list[int]:
        return list(await asyncio.gather(*(do_expire_uploads(drive.ctx, 2) for _ in range(6))))

    first = await drive.on_app(replicas)
    rest = 0
    while (n := await drive.on_app(do_expire_uploads, drive.ctx, 100)) > 0:
        rest += n
    assert sum(first) + rest == due  # every due row handled exactly once
    doomed = await count(db, "SELECT count(*) FROM storage_doomed_blobs")
    assert doomed >= 8

    async def deleters() -> list[int]:
        return list(await asyncio.gather(*(do_delete_doomed(drive.ctx, 3) for _ in range(4))))

    handled = sum(await drive.on_app(deleters))
    while (n := await drive.on_app(do_delete_doomed, drive.ctx, 100)) > 0:
        handled += n
    assert handled == doomed
    assert await count(db, "SELECT count(*) FROM storage_doomed_blobs") == 0
    for file_id in ids:
        assert await drive.keys(f"storage/{world.a}/{file_id}/") == []


async def test_the_cleanup_runs_by_itself(
    open_drive: Any, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    async with open_drive("local", cleanup_interval_s=0.2) as drive:
        issued = data(await drive.issue(world.member, world.a, "soon-gone.txt", 3))
        await db.execute(
            "UPDATE storage_file_versions SET upload_expires_at = now() - interval '1 second'"
            " WHERE file_id = %s",
            (issued["fileId"],),
        )

        async def remaining() -> int:
            return await count(
                db, "SELECT count(*) FROM storage_files WHERE id = %s", issued["fileId"]
            )

        await eventually(remaining, equals=0, timeout=15)


async def test_objects_whose_delete_failed_are_retried(
    local_drive: Drive, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    """What a permanent delete leaves when the store fails right after commit (rows gone,
    the key in storage_doomed_blobs, the object still stored): the job deletes it."""
    drive = local_drive
    file = await drive.upload(world.member, world.a, "stubborn.txt")
    key = (await drive.keys(f"storage/{world.a}/{file['id']}/"))[0]
    await db.execute("INSERT INTO storage_doomed_blobs (file_key) VALUES (%s)", (key,))
    await db.execute("DELETE FROM storage_files WHERE id = %s", (file["id"],))
    await drive.on_app(do_cleanup, drive.ctx)
    assert await drive.keys(f"storage/{world.a}/{file['id']}/") == []
    assert (
        await count(db, "SELECT count(*) FROM storage_doomed_blobs WHERE file_key = %s", key) == 0
    )
