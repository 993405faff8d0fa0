"""The S3 (or MinIO) blob backend, through aioboto3.

Two clients, as contract 8.7: the internal endpoint answers heads, reads and deletes; the
public endpoint (what browsers reach) only signs presigned URLs, because a SigV4
signature covers the host. A presigned PUT binds Content-Type and Content-Length, so S3
refuses a body of another type or size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wealist.core.blobs.base import MAX_DOWNLOAD_TTL_S, MAX_UPLOAD_TTL_S, BlobInfo, check_ttl
from wealist.core.errors import ServiceUnavailable
from wealist.core.settings import CoreSettings

__all__ = ("S3BlobStore",)

_DELETE_CHUNK = 1000  # DeleteObjects' limit
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def _unavailable(exc: Exception) -> ServiceUnavailable:
    detail = exc.response["Error"].get("Code", "") if isinstance(exc, ClientError) else ""
    return ServiceUnavailable(
        f"blob storage is unavailable ({type(exc).__name__}{': ' + detail if detail else ''})",
        code="STORAGE_UNAVAILABLE",
    )


class S3BlobStore:
    """An S3 (or MinIO) bucket. ``open()`` before use, ``close()`` after."""

    def __init__(self, settings: CoreSettings) -> None:
        self.bucket = settings.s3_bucket
        self.region = settings.s3_region
        self.endpoint = settings.s3_endpoint.rstrip("/")
        self.public_endpoint = (settings.s3_public_endpoint or settings.s3_endpoint).rstrip("/")
        self.create_bucket = settings.s3_create_bucket
        self._session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key or None,
            aws_secret_access_key=settings.s3_secret_key or None,
            region_name=self.region,
        )
        self._config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=3,
            read_timeout=10,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._signer: Any = None

    async def open(self) -> None:
        self._client = await self._stack.enter_async_context(
            self._session.client("s3", endpoint_url=self.endpoint or None, config=self._config)
        )
        if self.public_endpoint == self.endpoint:
            self._signer = self._client
        else:
            self._signer = await self._stack.enter_async_context(
                self._session.client(
                    "s3", endpoint_url=self.public_endpoint or None, config=self._config
                )
            )
        if self.create_bucket:
            with contextlib.suppress(ClientError):  # already there (maybe ours)
                await self._client.create_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        await self._stack.aclose()

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_s: int
    ) -> str:
        check_ttl(expires_s, MAX_UPLOAD_TTL_S)
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
        }
        url: str = await self._signer.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=expires_s
        )
        return url

    async def presign_download(
        self,
        key: str,
        *,
        expires_s: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        check_ttl(expires_s, MAX_DOWNLOAD_TTL_S)
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = (
                f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
            )
        if content_type is not None:
            params["ResponseContentType"] = content_type
        url: str = await self._signer.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_s
        )
        return url

    async def head(self, key: str) -> BlobInfo | None:
        try:
            found = await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"].get("Code") in _MISSING:
                return None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return BlobInfo(int(found["ContentLength"]), str(found.get("ContentType", "")))

    async def read_prefix(self, key: str, length: int) -> bytes:
        try:
            found = await self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{max(length, 1) - 1}"
            )
            async with found["Body"] as body:
                data: bytes = await body.read()
        except ClientError as exc:
            if exc.response["Error"].get("Code") in _MISSING:
                return b""
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return data[:length]

    async def delete(self, keys: Sequence[str]) -> None:
        try:
            for start in range(0, len(keys), _DELETE_CHUNK):
                chunk = keys[start : start + _DELETE_CHUNK]
                await self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc

    async def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            async for page in pages:
                found.extend(item["Key"] for item in page.get("Contents", ()))
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc
        return found

    def public_url(self, key: str) -> str:
        """Contract 8.7: ``{public}/{bucket}/{key}`` with an endpoint, else AWS's URL."""
        path = quote(key, safe="/")
        if self.public_endpoint:
            return f"{self.public_endpoint}/{self.bucket}/{path}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{path}"
