"""``wealist up`` without S3: every service gets the local backend's directory and secret;
a real ``wealist serve storage`` process then serves its own signed URLs over HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.plugins.harness import ROOT, Environment, TokenIssuer, wait_until_live
from tests.user.support import build_world
from wealist.devstack.blobs import blob_env, describe_blobs
from wealist.devstack.servers import free_port


def test_up_chooses_the_local_directory_only_without_s3(tmp_path: Path) -> None:
    chosen = blob_env({}, tmp_path, "s" * 48, "http://127.0.0.1:8003")
    assert chosen == {
        "WEALIST_BLOB_DIR": str(tmp_path / "blobs"),
        "WEALIST_BLOB_SECRET": "s" * 48,
        "WEALIST_BLOB_PUBLIC_URL": "http://127.0.0.1:8003",
    }
    assert describe_blobs(chosen) == f"{tmp_path / 'blobs'}/ (local directory)"
    assert blob_env({"WEALIST_S3_BUCKET": "b"}, tmp_path, "s" * 48, "x") == {}
    assert describe_blobs({"WEALIST_S3_BUCKET": "b"}) == "s3 bucket b (AWS)"
    kept = blob_env({"WEALIST_BLOB_DIR": "/data"}, tmp_path, "s" * 48, "x")
    assert "WEALIST_BLOB_DIR" not in kept  # what the environment says wins


async def test_a_storage_process_on_the_local_backend(
    environment: Environment, user_service: str, issuer: TokenIssuer, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    extra = blob_env({}, tmp_path, "p" * 48, url)
    env = environment.env("storage", WEALIST_USER_SERVICE_URL=user_service, **extra)
    log = tmp_path / "storage.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wealist", "serve", "storage", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        await wait_until_live(url, proc)
        async with httpx.AsyncClient(base_url=user_service, timeout=10) as users:
            world = await build_world(users, issuer)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            issued = await http.post(
                "/api/storage/files/upload-url",
                json={
                    "workspaceId": world.a,
                    "fileName": "a.txt",
                    "contentType": "text/plain",
                    "fileSize": 5,
                },
                headers=world.member.headers,
            )
            assert issued.status_code == 200, issued.text
            upload = issued.json()["data"]["uploadUrl"]
            assert upload.startswith(f"{url}/api/blobs/storage/{world.a}/")
            put = await http.put(upload, content=b"hello", headers={"Content-Type": "text/plain"})
            assert put.status_code == 200, put.text
            confirmed = await http.post(
                "/api/storage/files/confirm",
                json={"fileId": issued.json()["data"]["fileId"]},
                headers=world.member.headers,
            )
            assert confirmed.status_code == 200, confirmed.text
            download = await http.get(
                f"/api/storage/files/{confirmed.json()['data']['id']}/download",
                headers=world.member.headers,
            )
            fetched = await http.get(download.json()["data"]["downloadUrl"])
            assert fetched.content == b"hello"
        stored = list((tmp_path / "blobs" / "objects").rglob("*.meta"))
        assert len(stored) == 1
    finally:
        proc.terminate()
        proc.wait(10)
    assert "hello" not in log.read_text(errors="replace")
    assert "X-Signature" not in log.read_text(errors="replace")  # no signed URL in the logs
