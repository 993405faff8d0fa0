"""Quotas per workspace: refused when the URL is asked for and at confirm, with
QUOTA_EXCEEDED, and nothing is stored; usage reports them."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.storage.support import assert_error, data
from tests.user.support import World


async def stored_rows(db: psycopg.AsyncConnection[Any], workspace: str) -> int:
    cur = await db.execute(
        "SELECT count(*) FROM storage_file_versions WHERE workspace_id = %s", (workspace,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_the_upload_past_the_quota_is_refused_and_nothing_is_stored(
    open_drive: Any, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    quotas = {world.a: 100}
    for backend in ("s3", "local"):
        async with open_drive(backend, workspace_quotas=quotas) as drive:
            await db.execute("DELETE FROM storage_files WHERE workspace_id = %s", (world.a,))
            await drive.upload(world.member, world.a, "first.txt", b"x" * 60)
            refused = await drive.issue(world.member, world.a, "second.txt", 41)
            assert_error(refused, 413, "QUOTA_EXCEEDED")
            assert refused.json()["details"] == {
                "quotaBytes": 100,
                "usedBytes": 60,
                "requestedBytes": 41,
            }
            assert await stored_rows(db, world.a) == 1
            assert len(await drive.keys(f"storage/{world.a}/")) == 1
            fits = await drive.upload(world.member, world.a, "second.txt", b"y" * 40)
            assert fits["fileSize"] == 40
            usage = data(
                await drive.client.get(
                    f"/api/storage/workspaces/{world.a}/usage", headers=world.member.headers
                )
            )
            assert (usage["quotaBytes"], usage["usedBytes"], usage["remainingBytes"]) == (
                100,
                100,
                0,
            )
            assert_error(
                await drive.issue(world.member, world.a, "third.txt", 1), 413, "QUOTA_EXCEEDED"
            )
            # another workspace has its own (default) quota
            await drive.upload(world.other_admin, world.b, "b.txt", b"z" * 200)


async def test_pending_uploads_reserve_and_confirm_checks_again(
    open_drive: Any, world: World, db: psycopg.AsyncConnection[Any]
) -> None:
    async with open_drive("local", workspace_quotas={world.a: 100}) as drive:
        first = data(await drive.issue(world.member, world.a, "one.txt", 70))
        assert_error(await drive.issue(world.member, world.a, "two.txt", 31), 413, "QUOTA_EXCEEDED")
        await drive.put(first["uploadUrl"], b"1" * 70, "text/plain")
        data(await drive.confirm(world.member, first["fileId"]))

    # the quota shrinks while an upload is pending: confirm refuses it and stores nothing
    async with open_drive("local", workspace_quotas={world.a: 1000}) as drive:
        pending = data(await drive.issue(world.member, world.a, "late.txt", 50))
        await drive.put(pending["uploadUrl"], b"2" * 50, "text/plain")
    async with open_drive("local", workspace_quotas={world.a: 100}) as drive:
        refused = await drive.confirm(world.member, pending["fileId"])
        assert_error(refused, 413, "QUOTA_EXCEEDED")
        assert await drive.keys(f"storage/{world.a}/{pending['fileId']}/") == []
        cur = await db.execute(
            "SELECT count(*) FROM storage_files WHERE id = %s", (pending["fileId"],)
        )
        assert await cur.fetchone() == (0,)
        assert len(await drive.keys(f"storage/{world.a}/")) == 1


async def test_new_versions_count_against_the_quota(open_drive: Any, world: World) -> None:
    async with open_drive("s3", workspace_quotas={world.a: 100}) as drive:
        file = await drive.upload(world.member, world.a, "doc.txt", b"a" * 60)
        refused = await drive.client.post(
            f"/api/storage/files/{file['id']}/versions/upload-url",
            json={"contentType": "text/plain", "fileSize": 41},
            headers=world.member.headers,
        )
        assert_error(refused, 413, "QUOTA_EXCEEDED")


def test_quotas_are_configured_per_workspace_from_the_environment() -> None:
    from wealist.core.settings import load_settings
    from wealist.storage.settings import StorageSettings

    environ = {
        "WEALIST_STORAGE_DEFAULT_QUOTA_BYTES": "1000",
        "WEALIST_STORAGE_WORKSPACE_QUOTAS": '{"big-one": 5000}',
    }
    settings = load_settings(StorageSettings, "storage", environ)
    assert (settings.quota_for("big-one"), settings.quota_for("any-other")) == (5000, 1000)
