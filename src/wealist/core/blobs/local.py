"""The local-filesystem blob backend: one machine, no S3 (``wealist up`` without S3).

Objects live under ``root/objects`` named by the SHA-256 of their key (a key never becomes
a path, so no key can escape the directory), each with a small JSON sidecar holding the
key, size and Content-Type. Presigned URLs work like S3's: the query carries an expiry and
an HMAC-SHA256 signature over the method, key, expiry and the bound headers (Content-Type
and exact length for uploads; the response headers for downloads). The kernel's
``/api/blobs/{key}`` route (:mod:`wealist.core.blobs.http`) checks them and streams the
bytes. Every file operation runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

import msgspec

from wealist.core.blobs.base import MAX_DOWNLOAD_TTL_S, MAX_UPLOAD_TTL_S, BlobInfo, check_ttl
from wealist.core.errors import BadRequest, Forbidden

__all__ = ("MIN_SECRET_BYTES", "ROUTE", "LocalBlobStore")

ROUTE = "/api/blobs"
MIN_SECRET_BYTES = 32
WRITE_BUFFER = 1 << 20  # one thread hop per MiB, not per network chunk
READ_CHUNK = 256 * 1024

# Query parameters of a signed URL (S3-like names).
EXPIRES = "X-Expires"
CONTENT_TYPE = "X-Content-Type"
CONTENT_LENGTH = "X-Content-Length"
DISPOSITION = "response-content-disposition"
RESPONSE_TYPE = "response-content-type"
SIGNATURE = "X-Signature"


class _Meta(msgspec.Struct, frozen=True):
    key: str
    size: int
    content_type: str


_encode_meta = msgspec.json.Encoder().encode
_decode_meta = msgspec.json.Decoder(_Meta).decode


def check_key(key: str) -> None:
    """Keys travel in URL paths: no empty, ``.`` or ``..`` segment and no control character
    (clients would rewrite those paths). Files are named by hash whatever the key."""
    if not key or len(key) > 1024 or any(ord(c) < 32 or c == "\\" for c in key):
        raise ValueError(f"unusable blob key {key!r}")
    if any(part in {"", ".", ".."} for part in key.split("/")):
        raise ValueError(f"unusable blob key {key!r}")


def refused(message: str) -> Forbidden:
    return Forbidden(message, code="SIGNATURE_DOES_NOT_MATCH")


class DownloadGrant(msgspec.Struct, frozen=True):
    """What a valid signed GET allows: the object and the headers to answer with."""

    key: str
    disposition: str
    content_type: str


class LocalBlobStore:
    """A directory of objects. ``open()`` before use (creates the directories)."""

    def __init__(
        self,
        root: Path,
        secret: str,
        public_base: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"WEALIST_BLOB_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                "(it signs the local blob store's URLs)"
            )
        self.root = root
        self._objects = root / "objects"
        self._tmp = root / "tmp"
        self._secret = secret.encode()
        self.public_base = public_base.rstrip("/")
        self._clock = clock

    async def open(self) -> None:
        def make() -> None:
            self._objects.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)

        await asyncio.to_thread(make)

    async def close(self) -> None:
        return None

    # --- signing ----------------------------------------------------------------------

    def _sign(self, *fields: str) -> str:
        mac = hmac.new(self._secret, "\n".join(fields).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def _url(self, key: str, params: dict[str, str]) -> str:
        return f"{self.public_base}{ROUTE}/{quote(key, safe='/')}?{urlencode(params)}"

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_s: int
    ) -> str:
        check_ttl(expires_s, MAX_UPLOAD_TTL_S)
        check_key(key)
        expires = str(int(self._clock()) + expires_s)
        signature = self._sign("PUT", key, expires, content_type, str(size))
        return self._url(
            key,
            {
                EXPIRES: expires,
                CONTENT_TYPE: content_type,
                CONTENT_LENGTH: str(size),
                SIGNATURE: signature,
            },
        )

    async def presign_download(
        self,
        key: str,
        *,
        expires_s: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        check_ttl(expires_s, MAX_DOWNLOAD_TTL_S)
        check_key(key)
        expires = str(int(self._clock()) + expires_s)
        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}" if filename else ""
        params = {EXPIRES: expires}
        if disposition:
            params[DISPOSITION] = disposition
        if content_type:
            params[RESPONSE_TYPE] = content_type
        params[SIGNATURE] = self._sign("GET", key, expires, disposition, content_type or "")
        return self._url(key, params)

    def _check_signature(self, params: Mapping[str, str], *fields: str) -> None:
        expires = params.get(EXPIRES, "")
        if not expires.isdigit():
            raise refused("the URL is not signed")
        expected = self._sign(fields[0], fields[1], expires, *fields[2:])
        if not hmac.compare_digest(expected, params.get(SIGNATURE, "")):
            raise refused("the request signature does not match")
        if int(expires) < self._clock():
            raise Forbidden("the URL has expired", code="REQUEST_EXPIRED")

    def verify_upload(
        self,
        key: str,
        params: Mapping[str, str],
        content_type: str | None,
        content_length: str | None,
    ) -> tuple[str, int]:
        """The bound (Content-Type, length) of a signed PUT whose headers match them."""
        bound_type = params.get(CONTENT_TYPE, "")
        bound_length = params.get(CONTENT_LENGTH, "")
        self._check_signature(params, "PUT", key, bound_type, bound_length)
        if (content_type or "") != bound_type:
            raise refused("Content-Type differs from the one the URL was signed for")
        if content_length is None or content_length != bound_length:
            raise refused("Content-Length differs from the one the URL was signed for")
        return bound_type, int(bound_length)

    def verify_download(self, key: str, params: Mapping[str, str]) -> DownloadGrant:
        disposition = params.get(DISPOSITION, "")
        response_type = params.get(RESPONSE_TYPE, "")
        self._check_signature(params, "GET", key, disposition, response_type)
        return DownloadGrant(key, disposition, response_type)

    # --- objects ----------------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode()).hexdigest()
        directory = self._objects / digest[:2]
        return directory / digest, directory / f"{digest}.meta"

    def _read_meta(self, key: str) -> _Meta | None:
        data, meta = self._paths(key)
        try:
            found = _decode_meta(meta.read_bytes())
        except (FileNotFoundError, msgspec.DecodeError):
            return None
        if found.key != key or not data.exists():
            return None
        return found

    async def head(self, key: str) -> BlobInfo | None:
        found = await asyncio.to_thread(self._read_meta, key)
        return None if found is None else BlobInfo(found.size, found.content_type)

    async def read_prefix(self, key: str, length: int) -> bytes:
        def read() -> bytes:
            if self._read_meta(key) is None:
                return b""
            with self._paths(key)[0].open("rb") as f:
                return f.read(length)

        return await asyncio.to_thread(read)

    async def write(
        self, key: str, content_type: str, size: int, chunks: AsyncIterable[bytes]
    ) -> None:
        """Store exactly ``size`` bytes under ``key``; a longer or shorter body stores nothing."""
        partial = self._tmp / uuid.uuid4().hex
        out: BinaryIO = await asyncio.to_thread(partial.open, "wb")
        try:
            written = await self._copy(chunks, out, size)
            await asyncio.to_thread(out.close)
            if written != size:
                raise BadRequest(
                    "the body is shorter than its Content-Length", code="INCOMPLETE_BODY"
                )
            await asyncio.to_thread(self._publish, key, partial, _Meta(key, size, content_type))
        finally:
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(partial.unlink, missing_ok=True)

    @staticmethod
    async def _copy(chunks: AsyncIterable[bytes], out: BinaryIO, limit: int) -> int:
        written = 0
        buffer = bytearray()
        async for chunk in chunks:
            written += len(chunk)
            if written > limit:
                raise refused("the body is longer than the length the URL was signed for")
            buffer += chunk
            if len(buffer) >= WRITE_BUFFER:
                await asyncio.to_thread(out.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await asyncio.to_thread(out.write, bytes(buffer))
        return written

    def _publish(self, key: str, partial: Path, meta: _Meta) -> None:
        data, meta_path = self._paths(key)
        data.parent.mkdir(parents=True, exist_ok=True)
        partial.replace(data)
        staged = self._tmp / f"{uuid.uuid4().hex}.meta"
        staged.write_bytes(_encode_meta(meta))
        staged.replace(meta_path)  # the object exists once its sidecar does

    async def stream(self, key: str) -> tuple[BlobInfo, AsyncIterator[bytes]] | None:
        """The object's info and its bytes, or None when there is no such object."""
        found = await asyncio.to_thread(self._read_meta, key)
        if found is None:
            return None
        try:
            source: BinaryIO = await asyncio.to_thread(self._paths(key)[0].open, "rb")
        except FileNotFoundError:
            return None

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(source.read, READ_CHUNK):
                    yield chunk
            finally:
                await asyncio.to_thread(source.close)

        return BlobInfo(found.size, found.content_type), chunks()

    async def delete(self, keys: Sequence[str]) -> None:
        def remove() -> None:
            for key in keys:
                data, meta = self._paths(key)
                meta.unlink(missing_ok=True)  # gone for readers first
                data.unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    async def keys(self, prefix: str) -> list[str]:
        def scan() -> list[str]:
            found = []
            for meta in self._objects.glob("*/*.meta"):
                try:
                    key = _decode_meta(meta.read_bytes()).key
                except (FileNotFoundError, msgspec.DecodeError):
                    continue
                if key.startswith(prefix):
                    found.append(key)
            return sorted(found)

        return await asyncio.to_thread(scan)

    def public_url(self, key: str) -> str:
        """The object's address; it answers only with a signature (objects are private)."""
        return f"{self.public_base}{ROUTE}/{quote(key, safe='/')}"
