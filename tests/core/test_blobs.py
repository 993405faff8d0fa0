"""The S3 blob store against a real S3-compatible server process that checks signatures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.plugins.s3_server import S3Server
from wealist.core.blobs import S3BlobStore
from wealist.core.errors import ServiceUnavailable
from wealist.core.settings import CoreSettings


@pytest.fixture
async def store(s3_server: S3Server) -> AsyncIterator[S3BlobStore]:
    opened = S3BlobStore(CoreSettings(**s3_server.settings()))  # type: ignore[arg-type]
    await opened.open()
    yield opened
    await opened.close()


async def put(url: str, body: bytes, content_type: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.put(url, content=body, headers={"Content-Type": content_type})


async def test_upload_download_head_and_delete(store: S3BlobStore) -> None:
    key = "tests/ünïcode name.txt"
    url = await store.presign_upload(key, content_type="text/plain", size=5, expires_s=60)
    assert (await put(url, b"hello", "text/plain")).status_code == 200
    info = await store.head(key)
    assert info is not None
    assert (info.size, info.content_type) == (5, "text/plain")
    assert await store.read_prefix(key, 3) == b"hel"

    download = await store.presign_download(
        key, expires_s=60, filename="résumé.txt", content_type="text/plain"
    )
    async with httpx.AsyncClient() as http:
        got = await http.get(download)
    assert got.status_code == 200
    assert got.content == b"hello"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"

    await store.delete([key, "tests/never-there"])
    assert await store.head(key) is None
    assert await store.read_prefix(key, 3) == b""


async def test_the_signature_binds_what_was_declared(store: S3BlobStore) -> None:
    url = await store.presign_upload("tests/bound", content_type="image/png", size=4, expires_s=60)
    assert (await put(url, b"12345", "image/png")).status_code == 403
    assert (await put(url, b"1234", "image/gif")).status_code == 403
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert (await put(tampered, b"1234", "image/png")).status_code == 403
    assert await store.head("tests/bound") is None
    assert (await put(url, b"1234", "image/png")).status_code == 200


async def test_an_expired_url_is_refused(store: S3BlobStore) -> None:
    url = await store.presign_upload("tests/late", content_type="text/plain", size=1, expires_s=1)
    await asyncio.sleep(2.1)  # X-Amz-Date has one-second resolution
    refused = await put(url, b"x", "text/plain")
    assert refused.status_code == 403
    assert "expired" in refused.text


async def test_lifetimes_are_bounded(store: S3BlobStore) -> None:
    url = await store.presign_upload("k", content_type="text/plain", size=1, expires_s=900)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["900"]
    with pytest.raises(ValueError, match="lifetime"):
        await store.presign_upload("k", content_type="text/plain", size=1, expires_s=901)
    with pytest.raises(ValueError, match="lifetime"):
        await store.presign_download("k", expires_s=301)


def test_public_urls_follow_the_contract(s3_server: S3Server) -> None:
    settings: dict[str, Any] = {
        **s3_server.settings(),
        "s3_public_endpoint": "https://cdn.example.com/",
    }
    assert S3BlobStore(CoreSettings(**settings)).public_url("profiles/a b.png") == (
        "https://cdn.example.com/wealist-test/profiles/a%20b.png"
    )
    aws = S3BlobStore(CoreSettings(s3_bucket="b", s3_region="eu-west-1"))
    assert aws.public_url("x/y.png") == "https://b.s3.eu-west-1.amazonaws.com/x/y.png"


async def test_an_unreachable_store_is_503() -> None:
    settings = CoreSettings(
        s3_bucket="b", s3_endpoint="http://127.0.0.1:9", s3_access_key="k", s3_secret_key="s" * 40
    )
    unreachable = S3BlobStore(settings)
    await unreachable.open()
    try:
        with pytest.raises(ServiceUnavailable):
            await unreachable.head("anything")
    finally:
        await unreachable.close()
