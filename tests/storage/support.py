"""Helpers of the storage tests: a drive client that uploads like a browser would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.user.support import Actor

BASE = "http://testserver.local"  # where the local backend's URLs point (the app client)
SECRET = "storage-test-blob-secret-0123456789abcdefghij"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(120))

Client = AsyncTestClient[Litestar]


def assert_error(response: Any, status: int, code: str) -> None:
    """The storage error envelope: ``{error:{code,message}, requestId}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) - {"details"} == {"error", "requestId"}, body
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


def data(response: Any, status: int = 200) -> Any:
    """``{success: true, data}``'s data, after checking the status and envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


@dataclass
class Drive:
    """The storage app on one blob backend, and a browser for its presigned URLs."""

    backend: str
    client: Client
    http: httpx.AsyncClient

    @property
    def ctx(self) -> Any:
        return self.client.app.state["contexts"]["storage"]

    async def on_app(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the app's own event loop (its clients are bound to it)."""
        return await asyncio.to_thread(self.client.blocking_portal.call, fn, *args)

    async def keys(self, prefix: str) -> list[str]:
        """Every stored object under ``prefix``: listing the bucket (or directory)."""
        return list(await self.on_app(self.ctx.blobs.keys, prefix))

    async def put(self, url: str, body: bytes, content_type: str) -> httpx.Response:
        browser = self.client if self.backend == "local" else self.http
        return await browser.put(url, content=body, headers={"Content-Type": content_type})

    async def get(self, url: str) -> httpx.Response:
        browser = self.client if self.backend == "local" else self.http
        return await browser.get(url)

    async def issue(
        self,
        who: Actor,
        workspace: str,
        name: str,
        size: int,
        content_type: str = "text/plain",
        **where: str,
    ) -> httpx.Response:
        body = {
            "workspaceId": workspace,
            "fileName": name,
            "contentType": content_type,
            "fileSize": size,
            **where,
        }
        return await self.client.post(
            "/api/storage/files/upload-url", json=body, headers=who.headers
        )

    async def confirm(self, who: Actor, file_id: str, **more: str) -> httpx.Response:
        return await self.client.post(
            "/api/storage/files/confirm", json={"fileId": file_id, **more}, headers=who.headers
        )

    async def upload(
        self,
        who: Actor,
        workspace: str,
        name: str = "notes.txt",
        body: bytes = b"hello drive",
        content_type: str = "text/plain",
        **where: str,
    ) -> dict[str, Any]:
        """The three steps; returns the confirmed FileResponse."""
        issued = data(await self.issue(who, workspace, name, len(body), content_type, **where))
        stored = await self.put(issued["uploadUrl"], body, content_type)
        assert stored.status_code == 200, stored.text
        confirmed: dict[str, Any] = data(await self.confirm(who, issued["fileId"]))
        return confirmed

    async def folder(self, who: Actor, workspace: str, name: str, **where: str) -> dict[str, Any]:
        response = await self.client.post(
            "/api/storage/folders",
            json={"workspaceId": workspace, "name": name, **where},
            headers=who.headers,
        )
        created: dict[str, Any] = data(response, 201)
        return created

    async def project(self, who: Actor, workspace: str, name: str, **fields: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/storage/projects",
            json={"workspaceId": workspace, "name": name, **fields},
            headers=who.headers,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created
