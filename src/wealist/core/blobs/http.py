"""``PUT``/``GET /api/blobs/{key}``: the local blob store's signed URLs, served by the kernel.

Mounted once per app when a service of it keeps blobs in a local directory, so the user
service's profile images and the storage service's drive work the same on one machine as
on S3. Every process that shares the directory and the secret can serve any object, so a
gateway may route ``/api/blobs/`` to any of them. No token is needed: like S3's, the
signature in the URL is the permission, and it binds the method, the key, the expiry and
the headers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from litestar import Request, Response, get, put
from litestar.params import FromPath
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from wealist.core.blobs import blob_backend
from wealist.core.blobs.local import ROUTE, LocalBlobStore
from wealist.core.context import ServiceContext
from wealist.core.errors import NotFound, ServiceUnavailable

__all__ = ("blob_routes", "local_blob_routes")


def _key(raw: str) -> str:
    return raw.lstrip("/")


def blob_routes(contexts: Sequence[ServiceContext]) -> list[ControllerRouterHandler]:
    """The routes, when one of ``contexts`` will open a local blob store; else none."""
    if not any(ctx.spec.blobs and blob_backend(ctx.settings) == "local" for ctx in contexts):
        return []

    def opened() -> LocalBlobStore:
        for ctx in contexts:
            if isinstance(ctx.blobs, LocalBlobStore):
                return ctx.blobs
        raise ServiceUnavailable("the blob store is not open", code="STORAGE_UNAVAILABLE")

    return local_blob_routes(opened)


def local_blob_routes(store: Callable[[], LocalBlobStore]) -> list[ControllerRouterHandler]:
    """The two routes over the store ``store()`` returns when a request arrives."""

    @put(
        f"{ROUTE}/{{key:path}}",
        status_code=200,
        request_max_body_size=None,  # the signed length is the limit, checked while reading
        include_in_schema=False,
    )
    async def upload_blob(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[bytes]:
        blobs = store()
        name = _key(key)
        content_type, size = blobs.verify_upload(
            name,
            request.query_params,
            request.headers.get("content-type"),
            request.headers.get("content-length"),
        )
        await blobs.write(name, content_type, size, request.stream())
        return Response(b"", status_code=200)

    @get(f"{ROUTE}/{{key:path}}", include_in_schema=False)
    async def download_blob(request: Request[Any, Any, Any], key: FromPath[str]) -> Stream:
        blobs = store()
        name = _key(key)
        grant = blobs.verify_download(name, request.query_params)
        found = await blobs.stream(name)
        if found is None:
            raise NotFound("no such object", code="NO_SUCH_KEY")
        info, chunks = found
        headers = {"Content-Length": str(info.size), "Cache-Control": "private, no-store"}
        if grant.disposition:
            headers["Content-Disposition"] = grant.disposition
        return Stream(
            chunks,
            media_type=grant.content_type or info.content_type or "application/octet-stream",
            headers=headers,
        )

    return [upload_blob, download_blob]
