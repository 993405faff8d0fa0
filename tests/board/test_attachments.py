"""Attachments against the signature-checking S3 server: presign -> PUT -> register ->
attach to a project, board or comment; listing, download, delete; files of deleted owners
and expired uploads purged with their objects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.support import PNG, Scene, build_scene, unwrap, upload
from tests.noti.support import on_app_loop
from tests.plugins.harness import TokenIssuer
from tests.user.support import assert_error, build_world
from wealist.board.actions.attachments import do_purge

Client = AsyncTestClient[Litestar]
Db = Any


@pytest.fixture
async def files_board(
    app_client: Callable[..., Any], users: httpx.AsyncClient, s3_server: Any
) -> AsyncIterator[Client]:
    async with app_client(
        "board", user_service_url=str(users.base_url), **s3_server.settings()
    ) as opened:
        yield opened


@pytest.fixture
async def scene(files_board: Client, users: httpx.AsyncClient, issuer: TokenIssuer) -> Scene:
    return await build_scene(files_board, users, issuer, await build_world(users, issuer))


def ctx_of(client: Client) -> Any:
    return client.app.state["contexts"]["board"]


async def keys_in_bucket(client: Client, prefix: str = "board/") -> list[str]:
    return list(await on_app_loop(client, ctx_of(client).blobs.keys, prefix))


async def _settle_and_purge(ctx: Any) -> int:
    # A delete starts a purge in the background; it may hold rows (SKIP LOCKED) that one
    # run here would skip and see undeleted: let it finish first.
    await asyncio.gather(*ctx.state.get("purges", ()))
    return await do_purge(ctx)


async def purge(client: Client) -> int:
    return int(await on_app_loop(client, _settle_and_purge, ctx_of(client)))


async def test_a_file_goes_from_upload_to_a_board_and_back_out(
    files_board: Client, scene: Scene, db_board: Db
) -> None:
    owner = scene.project_owner
    presigned = await upload(files_board, owner, scene.world.a)
    assert presigned["expiresIn"] == 300
    key = presigned["fileKey"]
    assert key.startswith(f"board/boards/{scene.world.a}/") and key.endswith(".png")
    signed = parse_qs(urlsplit(presigned["uploadUrl"]).query)
    assert signed["X-Amz-Expires"] == ["300"]
    assert "content-length" in signed["X-Amz-SignedHeaders"][0]

    registered = unwrap(
        await files_board.post(
            "/api/attachments",
            json={
                "entityType": "board",
                "fileKey": key,
                "fileName": "shot.png",
                "fileSize": len(PNG),
                "contentType": "image/png",
            },
            headers=owner.headers,
        ),
        201,
    )
    assert (registered["id"], registered["attachmentId"]) == (presigned["attachmentId"],) * 2
    assert (registered["status"], registered["entityType"]) == ("TEMP", "BOARD")

    changed = unwrap(
        await files_board.put(
            f"/api/boards/{scene.board}",
            json={"attachmentIds": [presigned["attachmentId"]]},
            headers=owner.headers,
        )
    )
    assert [f["id"] for f in changed["attachments"]] == [presigned["attachmentId"]]
    assert changed["attachments"][0]["fileName"] == "shot.png"
    listed = unwrap(
        await files_board.get(
            f"/api/boards/{scene.board}/attachments", headers=scene.ws_member.headers
        )
    )
    assert [(f["id"], f["status"], f["entityId"]) for f in listed] == [
        (presigned["attachmentId"], "CONFIRMED", scene.board)
    ]
    moved = await files_board.get(
        f"/api/attachments/{presigned['attachmentId']}/download",
        headers=scene.ws_member.headers,
        follow_redirects=False,
    )
    assert moved.status_code == 302
    async with httpx.AsyncClient() as http:
        fetched = await http.get(moved.headers["location"])
    assert fetched.status_code == 200 and fetched.content == PNG
    assert "attachment" in fetched.headers.get("content-disposition", "")

    # Attached once: it cannot be attached elsewhere.
    again = await files_board.put(
        f"/api/boards/{scene.board}",
        json={"attachmentIds": [presigned["attachmentId"]]},
        headers=owner.headers,
    )
    assert_error(again, 400, "VALIDATION_ERROR")

    assert key in await keys_in_bucket(files_board)
    unwrap(
        await files_board.delete(
            f"/api/attachments/{presigned['attachmentId']}", headers=owner.headers
        )
    )
    await purge(files_board)
    assert key not in await keys_in_bucket(files_board)
    assert (
        unwrap(
            await files_board.get(f"/api/boards/{scene.board}/attachments", headers=owner.headers)
        )
        == []
    )


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"fileName": "virus.exe", "contentType": "application/octet-stream"}, "INVALID_FILE_TYPE"),
        ({"fileName": "pic.png", "contentType": "application/pdf"}, "INVALID_FILE_TYPE"),
        ({"fileSize": 50 * 1024 * 1024 + 1}, "FILE_TOO_LARGE"),
        ({"fileSize": 0}, "FILE_TOO_LARGE"),
    ],
)
async def test_a_file_of_another_type_or_size_gets_no_upload_url(
    files_board: Client, scene: Scene, db_board: Db, override: dict[str, Any], code: str
) -> None:
    asked = {
        "entityType": "BOARD",
        "workspaceId": scene.world.a,
        "fileName": "a.png",
        "fileSize": 10,
        "contentType": "image/png",
        **override,
    }
    refused = await files_board.post(
        "/api/attachments/presigned-url", json=asked, headers=scene.project_owner.headers
    )
    assert_error(refused, 400, code)


async def test_an_upload_that_is_not_what_was_declared_cannot_be_attached(
    files_board: Client, scene: Scene
) -> None:
    owner = scene.project_owner
    # Not uploaded at all.
    asked = {
        "entityType": "BOARD",
        "workspaceId": scene.world.a,
        "fileName": "late.png",
        "fileSize": len(PNG),
        "contentType": "image/png",
    }
    pending = unwrap(
        await files_board.post("/api/attachments/presigned-url", json=asked, headers=owner.headers)
    )
    attach = await files_board.put(
        f"/api/boards/{scene.board}",
        json={"attachmentIds": [pending["attachmentId"]]},
        headers=owner.headers,
    )
    assert_error(attach, 409, "UPLOAD_INCOMPLETE")
    # The right size, but not a PNG.
    fake = await upload(files_board, owner, scene.world.a, body=b"GIF89a" + b"\x00" * 122)
    attach = await files_board.put(
        f"/api/boards/{scene.board}",
        json={"attachmentIds": [fake["attachmentId"]]},
        headers=owner.headers,
    )
    assert_error(attach, 400, "INVALID_FILE_TYPE")
    # Someone else's upload, and an upload meant for a comment.
    theirs = await upload(files_board, scene.project_member, scene.world.a)
    for foreign in (theirs, await upload(files_board, owner, scene.world.a, entity="COMMENT")):
        attach = await files_board.put(
            f"/api/boards/{scene.board}",
            json={"attachmentIds": [foreign["attachmentId"]]},
            headers=owner.headers,
        )
        assert_error(attach, 400, "VALIDATION_ERROR")
    board = unwrap(await files_board.get(f"/api/boards/{scene.board}", headers=owner.headers))
    assert board["attachments"] == []


async def test_files_of_projects_and_comments_and_what_happens_when_they_are_deleted(
    files_board: Client, scene: Scene, db_board: Db
) -> None:
    owner = scene.project_owner
    project_file = await upload(files_board, owner, scene.world.a, entity="PROJECT")
    project = unwrap(
        await files_board.post(
            "/api/projects",
            json={
                "workspaceId": scene.world.a,
                "name": "With files",
                "attachmentIds": [project_file["attachmentId"]],
            },
            headers=owner.headers,
        ),
        201,
    )
    assert [f["id"] for f in project["attachments"]] == [project_file["attachmentId"]]
    # An empty attachmentIds keeps the files (the original deleted them all).
    kept = unwrap(
        await files_board.put(
            f"/api/projects/{project['projectId']}",
            json={"attachmentIds": []},
            headers=owner.headers,
        )
    )
    assert [f["id"] for f in kept["attachments"]] == [project_file["attachmentId"]]

    card = unwrap(
        await files_board.post(
            "/api/boards",
            json={"projectId": project["projectId"], "title": "c"},
            headers=owner.headers,
        ),
        201,
    )
    comment_file = await upload(files_board, owner, scene.world.a, entity="COMMENT")
    comment = unwrap(
        await files_board.post(
            "/api/comments",
            json={
                "boardId": card["boardId"],
                "content": "see attached",
                "attachmentIds": [comment_file["attachmentId"]],
            },
            headers=owner.headers,
        ),
        201,
    )
    assert [f["id"] for f in comment["attachments"]] == [comment_file["attachmentId"]]
    listed = unwrap(
        await files_board.get(
            f"/api/comments/{comment['commentId']}/attachments", headers=owner.headers
        )
    )
    assert [f["entityType"] for f in listed] == ["COMMENT"]

    keys = {project_file["fileKey"], comment_file["fileKey"]}
    assert keys <= set(await keys_in_bucket(files_board))
    unwrap(await files_board.delete(f"/api/projects/{project['projectId']}", headers=owner.headers))
    await purge(files_board)
    assert not keys & set(await keys_in_bucket(files_board))
    cur = await db_board.execute(
        "SELECT count(*) FROM attachments WHERE id = ANY(%s::uuid[])",
        ([project_file["attachmentId"], comment_file["attachmentId"]],),
    )
    assert await cur.fetchone() == (0,)


async def test_expired_uploads_are_purged_with_their_objects(
    files_board: Client, scene: Scene, db_board: Db
) -> None:
    stale = await upload(files_board, scene.project_owner, scene.world.a)
    await db_board.execute(
        "UPDATE attachments SET expires_at = now() - interval '1 second' WHERE id = %s",
        (stale["attachmentId"],),
    )
    assert stale["fileKey"] in await keys_in_bucket(files_board)
    assert await purge(files_board) >= 1
    assert stale["fileKey"] not in await keys_in_bucket(files_board)
    gone = await files_board.get(
        f"/api/attachments/{stale['attachmentId']}/download",
        headers=scene.project_owner.headers,
    )
    assert_error(gone, 404, "NOT_FOUND")
