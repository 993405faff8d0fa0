"""Chat image uploads: a presigned PUT the S3 server accepts (signature checked), scoped to
the workspace's key prefix, for members only; bad input is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.chat.support import assert_error
from tests.user.support import World

Client = AsyncTestClient[Litestar]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


@pytest.fixture
async def chat_s3(
    app_client: Callable[..., Any], s3_server: Any, users: httpx.AsyncClient
) -> AsyncIterator[Client]:
    settings = {**s3_server.settings(), "user_service_url": str(users.base_url)}
    async with app_client("chat", **settings) as opened:
        yield opened


async def test_presigned_upload_round_trip(chat_s3: Client, world: World) -> None:
    body = {
        "workspaceId": world.a,
        "fileName": "cat.png",
        "contentType": "image/png",
        "fileSize": len(PNG),
    }
    response = await chat_s3.post(
        "/api/chats/files/presigned-url", json=body, headers=world.member.headers
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert set(reply) == {"data", "requestId"}
    data = reply["data"]
    assert set(data) == {"uploadUrl", "downloadUrl", "fileKey", "expiresIn"}
    assert data["expiresIn"] == 300
    assert data["fileKey"].startswith(f"chat/{world.a}/")
    assert data["fileKey"].endswith(".png")
    async with httpx.AsyncClient() as browser:
        put = await browser.put(
            data["uploadUrl"], content=PNG, headers={"Content-Type": "image/png"}
        )
        assert put.status_code == 200, put.text
        got = await browser.get(data["downloadUrl"])
        assert got.status_code == 200
        assert got.content == PNG
        tampered = data["uploadUrl"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
        refused = await browser.put(tampered, content=PNG, headers={"Content-Type": "image/png"})
        assert refused.status_code == 403


async def test_presign_refuses_bad_input_and_strangers(chat_s3: Client, world: World) -> None:
    path = "/api/chats/files/presigned-url"
    good = {"workspaceId": world.a, "fileName": "a.png", "contentType": "image/png", "fileSize": 10}
    for change in (
        {"contentType": "application/pdf"},
        {"fileSize": 0},
        {"fileSize": 50 * 1024 * 1024 + 1},
        {"fileName": "../x.png"},
    ):
        response = await chat_s3.post(path, json={**good, **change}, headers=world.member.headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    stranger = await chat_s3.post(path, json=good, headers=world.outsider.headers)
    assert_error(stranger, 404, "NOT_FOUND")
