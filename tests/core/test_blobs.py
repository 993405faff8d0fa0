"""Both blob backends behind one interface: S3 against a real S3-compatible server process
that checks signatures, and the local directory behind the kernel's ``/api/blobs`` route.
The same tests run against both; the ones after them are specific to one backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.s3_server import S3Server
from wealist.core.app import exception_handler
from wealist.core.blobs import (
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    blob_backend,
    make_blob_store,
)
from wealist.core.blobs.http import local_blob_routes
from wealist.core.errors import ServiceUnavailable, envelope
from wealist.core.settings import CoreSettings

SECRET = "local-blob-secret-0123456789abcdefghijklmnop"
BASE = "http://testserver.local"


@dataclass
class Backend:
    """A store and the HTTP client a browser would use against its URLs."""

    name: str
    store: BlobStore
    http: httpx.AsyncClient

    async def put(self, url: str, body: bytes, content_type: str) -> httpx.Response:
        return await self.http.put(url, content=body, headers={"Content-Type": content_type})

    async def get(self, url: str) -> httpx.Response:
        return await self.http.get(url)


def blob_app(store: LocalBlobStore) -> Litestar:
    """The kernel's blob routes over ``store``, with the service error envelope."""
    return Litestar(
        route_handlers=local_blob_routes(lambda: store),
        exception_handlers={Exception: exception_handler(envelope("storage"))},
    )


@pytest.fixture
async def local_store(tmp_path: Path) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path / "blobs", SECRET, BASE)
    await store.open()
    return store


@pytest.fixture(params=["s3", "local"])
async def backend(
    request: pytest.FixtureRequest, s3_server: S3Server, local_store: LocalBlobStore
) -> AsyncIterator[Backend]:
    if request.param == "s3":
        store = S3BlobStore(CoreSettings(**s3_server.settings()))  # type: ignore[arg-type]
        await store.open()
        async with httpx.AsyncClient() as http:
            yield Backend("s3", store, http)
        await store.close()
    else:
        async with AsyncTestClient(blob_app(local_store), base_url=BASE) as http:
            yield Backend("local", local_store, http)


# --- the same behaviour from both backends ----------------------------------------------


async def test_upload_download_head_list_and_delete(backend: Backend) -> None:
    key = f"tests/{backend.name}/ünïcode name.txt"
    store = backend.store
    url = await store.presign_upload(key, content_type="text/plain", size=5, expires_s=60)
    assert (await backend.put(url, b"hello", "text/plain")).status_code == 200
    info = await store.head(key)
    assert info is not None
    assert (info.size, info.content_type) == (5, "text/plain")
    assert await store.read_prefix(key, 3) == b"hel"
    assert key in await store.keys(f"tests/{backend.name}/")
    assert await store.keys(f"tests/{backend.name}/nothing-") == []

    download = await store.presign_download(
        key, expires_s=60, filename="résumé.txt", content_type="text/plain"
    )
    got = await backend.get(download)
    assert got.status_code == 200
    assert got.content == b"hello"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    assert got.headers["content-type"].startswith("text/plain")

    await store.delete([key, "tests/never-there"])
    assert await store.head(key) is None
    assert await store.read_prefix(key, 3) == b""
    assert key not in await store.keys(f"tests/{backend.name}/")
    assert (await backend.get(download)).status_code in {403, 404}  # S3 may hide absence


async def test_the_signature_binds_what_was_declared(backend: Backend) -> None:
    key = f"tests/{backend.name}/bound"
    url = await backend.store.presign_upload(key, content_type="image/png", size=4, expires_s=60)
    assert (await backend.put(url, b"12345", "image/png")).status_code == 403  # one byte over
    assert (await backend.put(url, b"123", "image/png")).status_code == 403  # one short
    assert (await backend.put(url, b"1234", "image/gif")).status_code == 403  # another type
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert (await backend.put(tampered, b"1234", "image/png")).status_code == 403
    elsewhere = url.replace("/bound", "/other-key")  # the signature names its key
    assert (await backend.put(elsewhere, b"1234", "image/png")).status_code == 403
    assert await backend.store.head(key) is None
    assert await backend.store.head(f"tests/{backend.name}/other-key") is None
    assert (await backend.put(url, b"1234", "image/png")).status_code == 200


async def test_a_download_url_is_for_its_key_only(backend: Backend) -> None:
    store = backend.store
    for key in (f"tests/{backend.name}/mine", f"tests/{backend.name}/theirs"):
        url = await store.presign_upload(key, content_type="text/plain", size=2, expires_s=60)
        assert (await backend.put(url, b"ok", "text/plain")).status_code == 200
    mine = await store.presign_download(f"tests/{backend.name}/mine", expires_s=60)
    theirs = mine.replace("/mine", "/theirs")
    assert (await backend.get(theirs)).status_code == 403
    assert (await backend.get(mine)).status_code == 200


async def test_an_expired_url_is_refused(backend: Backend) -> None:
    key = f"tests/{backend.name}/late"
    store = backend.store
    upload = await store.presign_upload(key, content_type="text/plain", size=1, expires_s=1)
    await asyncio.sleep(2.1)  # the expiry has one-second resolution
    refused = await backend.put(upload, b"x", "text/plain")
    assert refused.status_code == 403
    assert "expired" in refused.text.lower()
    assert await store.head(key) is None


async def test_lifetimes_are_bounded(backend: Backend) -> None:
    store = backend.store
    await store.presign_upload("k", content_type="text/plain", size=1, expires_s=900)
    with pytest.raises(ValueError, match="lifetime"):
        await store.presign_upload("k", content_type="text/plain", size=1, expires_s=901)
    with pytest.raises(ValueError, match="lifetime"):
        await store.presign_download("k", expires_s=301)
    with pytest.raises(ValueError, match="lifetime"):
        await store.presign_download("k", expires_s=0)


# --- S3 ---------------------------------------------------------------------------------


async def test_s3_urls_carry_their_lifetime_and_bound_headers(s3_server: S3Server) -> None:
    store = S3BlobStore(CoreSettings(**s3_server.settings()))  # type: ignore[arg-type]
    await store.open()
    try:
        url = await store.presign_upload("k", content_type="text/plain", size=1, expires_s=900)
    finally:
        await store.close()
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert query["X-Amz-SignedHeaders"][0].split(";") == ["content-length", "content-type", "host"]


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
        with pytest.raises(ServiceUnavailable):
            await unreachable.keys("")
    finally:
        await unreachable.close()


# --- the local directory ----------------------------------------------------------------


async def test_local_keys_never_become_paths(local_store: LocalBlobStore, tmp_path: Path) -> None:
    for bad in ("../../etc/passwd", "a//b", "./a", "a/..", "", "a\\b", "a\nb"):
        with pytest.raises(ValueError, match="unusable blob key"):
            await local_store.presign_upload(bad, content_type="text/plain", size=1, expires_s=60)
    key = "odd name/..hidden/ü.txt"
    url = await local_store.presign_upload(key, content_type="text/plain", size=3, expires_s=60)
    async with AsyncTestClient(blob_app(local_store), base_url=BASE) as http:
        stored = await http.put(url, content=b"abc", headers={"Content-Type": "text/plain"})
    assert stored.status_code == 200, stored.text
    assert await local_store.read_prefix(key, 10) == b"abc"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 2  # the object and its sidecar, named by hash inside the root
    assert all(p.is_relative_to(tmp_path / "blobs" / "objects") for p in files)
    assert not any("hidden" in str(p) for p in files)


async def test_local_refusals_use_the_error_envelope(local_store: LocalBlobStore) -> None:
    url = await local_store.presign_upload("k", content_type="text/plain", size=3, expires_s=60)
    unsigned = url.split("?", 1)[0]
    async with AsyncTestClient(blob_app(local_store), base_url=BASE) as http:
        for response in (
            await http.put(unsigned, content=b"abc", headers={"Content-Type": "text/plain"}),
            await http.get(unsigned),
        ):
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "SIGNATURE_DOES_NOT_MATCH"
        late = LocalBlobStore(local_store.root, SECRET, BASE, clock=lambda: 0.0)
        expired = await late.presign_download("k", expires_s=1)
        refused = await http.get(expired)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "REQUEST_EXPIRED"


async def test_a_url_signed_with_another_secret_is_refused(local_store: LocalBlobStore) -> None:
    forger = LocalBlobStore(local_store.root, "another-secret-0123456789abcdefghijklmn", BASE)
    url = await forger.presign_upload("k", content_type="text/plain", size=1, expires_s=60)
    async with AsyncTestClient(blob_app(local_store), base_url=BASE) as http:
        refused = await http.put(url, content=b"x", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 403
    assert await local_store.head("k") is None


def test_the_local_secret_must_be_long(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="WEALIST_BLOB_SECRET"):
        LocalBlobStore(tmp_path, "short", BASE)


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    assert blob_backend(CoreSettings()) is None
    assert make_blob_store(CoreSettings(), BASE) is None
    local = CoreSettings(blob_dir=str(tmp_path), blob_secret=SECRET)
    assert blob_backend(local) == "local"
    store = make_blob_store(local, "http://127.0.0.1:8003")
    assert isinstance(store, LocalBlobStore)
    assert store.public_url("a/b c").startswith("http://127.0.0.1:8003/api/blobs/a/b%20c")
    behind_gateway = CoreSettings(
        blob_dir=str(tmp_path), blob_secret=SECRET, blob_public_url="https://wealist.example/"
    )
    chosen = make_blob_store(behind_gateway, "http://127.0.0.1:8003")
    assert isinstance(chosen, LocalBlobStore)
    assert chosen.public_url("k") == "https://wealist.example/api/blobs/k"
    both = CoreSettings(s3_bucket="b", blob_dir=str(tmp_path), blob_secret=SECRET)
    assert blob_backend(both) == "s3"  # a named bucket wins
    assert isinstance(make_blob_store(both, BASE), S3BlobStore)


# --- a service on the local backend: the user service's profile images ------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(100))


async def test_profile_images_work_on_the_local_backend(
    app_client: Any, issuer: Any, tmp_path: Path
) -> None:
    """The user service, unchanged, runs its three-step image flow on a local directory."""
    from tests.user.support import build_world

    settings = {"blob_dir": str(tmp_path / "blobs"), "blob_secret": SECRET, "blob_public_url": BASE}
    async with app_client("user", **settings) as client:
        world = await build_world(client, issuer)
        issued = await client.post(
            "/api/profiles/me/image/presigned-url",
            json={"fileName": "me.png", "contentType": "image/png", "fileSize": len(PNG)},
            headers=world.member.headers,
        )
        assert issued.status_code == 200, issued.text
        upload_url = issued.json()["uploadUrl"]
        assert upload_url.startswith(f"{BASE}/api/blobs/profiles/")
        assert parse_qs(urlsplit(upload_url).query)["X-Content-Length"] == [str(len(PNG))]
        bigger = await client.put(
            upload_url, content=PNG + b"!", headers={"Content-Type": "image/png"}
        )
        assert bigger.status_code == 403
        put = await client.put(upload_url, content=PNG, headers={"Content-Type": "image/png"})
        assert put.status_code == 200, put.text
        key = issued.json()["fileKey"]
        saved = await client.post(
            "/api/profiles/me/image/attachment",
            json={
                "fileKey": key,
                "fileName": "me.png",
                "contentType": "image/png",
                "fileSize": len(PNG),
            },
            headers=world.member.headers,
        )
        assert saved.status_code == 201, saved.text
        confirmed = await client.put(
            "/api/profiles/me/image",
            json={"attachmentId": issued.json()["attachmentId"]},
            headers=world.member.bearer(**{"X-Workspace-Id": world.a}),
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["profileImageUrl"] == f"{BASE}/api/blobs/{key}"
        store = client.app.state["contexts"]["user"].blobs
        assert isinstance(store, LocalBlobStore)
        assert await store.keys("profiles/") == [key]
