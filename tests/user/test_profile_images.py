"""The three-step profile image flow against a real S3-compatible server process that
checks presigned signatures, and the cleanup of what is left behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.core.realtime.waiting import eventually
from tests.plugins.harness import TokenIssuer
from tests.user.support import Actor, Db, World, assert_error, sign_up
from wealist.user.actions.images import do_purge_attachments

Client = AsyncTestClient[Litestar]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
ATTACHMENT_KEYS = {
    "attachmentId",
    "entityType",
    "status",
    "fileName",
    "fileUrl",
    "fileSize",
    "contentType",
    "uploadedBy",
    "expiresAt",
    "createdAt",
}


@pytest.fixture
async def s3_client(app_client: Callable[..., Any], s3_server: Any) -> AsyncIterator[Client]:
    async with app_client("user", **s3_server.settings()) as opened:
        yield opened


async def presign(client: Client, who: Actor, size: int = len(PNG), kind: str = "image/png") -> Any:
    response = await client.post(
        "/api/profiles/me/image/presigned-url",
        json={"fileName": "../../etc/me.png", "contentType": kind, "fileSize": size},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def upload(url: str, body: bytes, kind: str = "image/png") -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.put(url, content=body, headers={"Content-Type": kind})


async def attach(client: Client, who: Actor, key: str, size: int = len(PNG)) -> httpx.Response:
    return await client.post(
        "/api/profiles/me/image/attachment",
        json={"fileKey": key, "fileName": "me.png", "contentType": "image/png", "fileSize": size},
        headers=who.headers,
    )


async def on_app_loop(client: Client, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on the app's own event loop (its S3 client is bound to it)."""
    return await asyncio.to_thread(client.blocking_portal.call, fn, *args)


async def purge(client: Client, batch: int = 100) -> int:
    ctx = client.app.state["contexts"]["user"]
    return int(await on_app_loop(client, do_purge_attachments, ctx, batch))


async def head(client: Client, key: str) -> Any:
    return await on_app_loop(client, client.app.state["contexts"]["user"].blobs.head, key)


async def test_the_three_steps(s3_client: Client, world: World, db: Db) -> None:
    started = int(time.time())
    issued = await presign(s3_client, world.member)
    assert set(issued) == {"uploadUrl", "fileKey", "expiresAt", "attachmentId", "contentType"}
    assert issued["fileKey"].startswith("profiles/")
    assert ".." not in issued["fileKey"]
    assert "etc" not in issued["fileKey"]  # the key is the server's, not the file name
    assert started + 300 <= issued["expiresAt"] <= int(time.time()) + 300
    query = parse_qs(urlsplit(issued["uploadUrl"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-SignedHeaders"][0].split(";") == ["content-length", "content-type", "host"]

    assert (await upload(issued["uploadUrl"], PNG)).status_code == 200
    saved = await attach(s3_client, world.member, issued["fileKey"])
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert set(body) == ATTACHMENT_KEYS
    assert (body["entityType"], body["status"], body["fileSize"]) == (
        "USER_PROFILE",
        "TEMP",
        len(PNG),
    )
    assert body["fileUrl"].endswith(issued["fileKey"])
    assert body["uploadedBy"] == world.member.user_id

    confirmed = await s3_client.put(
        "/api/profiles/me/image",
        json={"attachmentId": issued["attachmentId"]},
        headers=world.member.bearer(**{"X-Workspace-Id": world.a}),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["profileImageUrl"] == body["fileUrl"]
    assert confirmed.json()["workspaceId"] == world.a
    listed = await s3_client.get(f"/api/workspaces/{world.a}/members", headers=world.owner.headers)
    images = {m["userId"]: m.get("profileImageUrl") for m in listed.json()}
    assert images[world.member.user_id] == body["fileUrl"]
    cur = await db.execute(
        "SELECT status, entity_id IS NOT NULL, purge_after FROM attachments WHERE id = %s",
        (issued["attachmentId"],),
    )
    assert await cur.fetchone() == ("CONFIRMED", True, None)

    again = await s3_client.put(
        "/api/profiles/me/image",
        json={"attachmentId": issued["attachmentId"]},
        headers=world.member.headers,
    )
    assert_error(again, 409, "CONFLICT")


async def test_the_presigned_put_binds_size_and_type(s3_client: Client, world: World) -> None:
    issued = await presign(s3_client, world.member)
    bigger = await upload(issued["uploadUrl"], PNG + b"\x00")
    assert bigger.status_code == 403, bigger.text
    other_type = await upload(issued["uploadUrl"], PNG, "image/gif")
    assert other_type.status_code == 403, other_type.text
    smaller = await upload(issued["uploadUrl"], PNG[:-1])
    assert smaller.status_code == 403, smaller.text
    assert_error(await attach(s3_client, world.member, issued["fileKey"]), 409, "UPLOAD_INCOMPLETE")


async def test_uploads_are_checked_before_they_count(
    s3_client: Client, world: World, issuer: TokenIssuer
) -> None:
    fake = b"not an image at all".ljust(len(PNG), b"!")
    issued = await presign(s3_client, world.member)
    assert (await upload(issued["uploadUrl"], fake)).status_code == 200
    assert_error(await attach(s3_client, world.member, issued["fileKey"]), 400, "INVALID_FILE_TYPE")
    confirm = await s3_client.put(
        "/api/profiles/me/image",
        json={"attachmentId": issued["attachmentId"]},
        headers=world.member.headers,
    )
    assert_error(confirm, 400, "INVALID_FILE_TYPE")

    issued = await presign(s3_client, world.member)
    await upload(issued["uploadUrl"], PNG)
    declared_otherwise = await attach(s3_client, world.member, issued["fileKey"], size=len(PNG) + 1)
    assert_error(declared_otherwise, 400, "VALIDATION_ERROR")
    thief = await sign_up(s3_client, issuer, "thief")
    assert_error(await attach(s3_client, thief, issued["fileKey"]), 404, "NOT_FOUND")
    stolen = await s3_client.put(
        "/api/profiles/me/image",
        json={"attachmentId": issued["attachmentId"]},
        headers=thief.headers,
    )
    assert_error(stolen, 403, "FORBIDDEN")


async def test_presign_validates_the_declaration(s3_client: Client, world: World) -> None:
    path = "/api/profiles/me/image/presigned-url"
    for body in (
        {"fileName": "a.pdf", "contentType": "application/pdf", "fileSize": 10},
        {"fileName": "a.png", "contentType": "image/png", "fileSize": 20 * 1024 * 1024 + 1},
        {"fileName": "a.png", "contentType": "image/png", "fileSize": 0},
        {"fileName": "", "contentType": "image/png", "fileSize": 10},
        {"contentType": "image/png", "fileSize": 10},
    ):
        response = await s3_client.post(path, json=body, headers=world.member.headers)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_without_a_blob_store_uploads_say_so(client: Client, world: World) -> None:
    response = await client.post(
        "/api/profiles/me/image/presigned-url",
        json={"fileName": "a.png", "contentType": "image/png", "fileSize": 10},
        headers=world.member.headers,
    )
    assert_error(response, 503, "STORAGE_NOT_CONFIGURED")


async def test_replaced_and_expired_uploads_are_cleaned(
    s3_client: Client, world: World, db: Db
) -> None:
    header = world.member.bearer(**{"X-Workspace-Id": world.a})
    keys = []
    for _ in range(2):  # the second image replaces the first
        issued = await presign(s3_client, world.member)
        await upload(issued["uploadUrl"], PNG)
        confirmed = await s3_client.put(
            "/api/profiles/me/image", json={"attachmentId": issued["attachmentId"]}, headers=header
        )
        assert confirmed.status_code == 200, confirmed.text
        keys.append(issued["fileKey"])
    expired = await presign(s3_client, world.member)
    await upload(expired["uploadUrl"], PNG)
    await db.execute(
        "UPDATE attachments SET expires_at = now() - interval '1 hour',"
        " purge_after = now() - interval '1 hour' WHERE id = %s",
        (expired["attachmentId"],),
    )
    purged = 0
    while (n := await purge(s3_client)) > 0:
        purged += n
    assert purged >= 2  # other tests of this worker may have left some too
    assert await head(s3_client, keys[0]) is None
    assert await head(s3_client, expired["fileKey"]) is None
    assert await head(s3_client, keys[1]) is not None  # the image in use stays
    cur = await db.execute(
        "SELECT file_key FROM attachments WHERE file_key = ANY(%s)",
        ([keys[0], keys[1], expired["fileKey"]],),
    )
    assert [row[0] for row in await cur.fetchall()] == [keys[1]]


async def test_replicas_share_the_cleanup(s3_client: Client, world: World, db: Db) -> None:
    ids = [(await presign(s3_client, world.outsider))["attachmentId"] for _ in range(6)]
    await db.execute(
        "UPDATE attachments SET purge_after = now() - interval '1 minute' WHERE id = ANY(%s)",
        (ids,),
    )
    cur = await db.execute("SELECT count(*) FROM attachments WHERE purge_after < now()")
    due = (await cur.fetchone() or [0])[0]
    counts = await asyncio.gather(*(purge(s3_client, 2) for _ in range(6)))
    rest = 0
    while (n := await purge(s3_client)) > 0:
        rest += n
    assert sum(counts) + rest == due  # every due row purged exactly once
    cur = await db.execute("SELECT count(*) FROM attachments WHERE id = ANY(%s)", (ids,))
    assert (await cur.fetchone() or [1])[0] == 0


async def test_the_scheduled_cleanup_runs_by_itself(
    app_client: Callable[..., Any], s3_server: Any, world: World, db: Db
) -> None:
    settings = {**s3_server.settings(), "attachment_cleanup_interval_s": 0.2}
    async with app_client("user", **settings) as fast:
        issued = await presign(fast, world.member)
        await db.execute(
            "UPDATE attachments SET purge_after = now() - interval '1 second' WHERE id = %s",
            (issued["attachmentId"],),
        )

        async def remaining() -> int:
            cur = await db.execute(
                "SELECT count(*) FROM attachments WHERE id = %s", (issued["attachmentId"],)
            )
            return int((await cur.fetchone() or [1])[0])

        await eventually(remaining, equals=0, timeout=10)
