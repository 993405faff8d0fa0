"""What every blob backend offers, and the limits they share.

A presigned upload binds the object's key, Content-Type and exact length; a presigned
download binds the key and the headers the response will carry. Lifetimes are capped so a
leaked URL is short-lived (reliability T27): uploads 15 minutes, downloads 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

__all__ = (
    "MAX_DOWNLOAD_TTL_S",
    "MAX_UPLOAD_TTL_S",
    "BlobInfo",
    "BlobStore",
    "check_ttl",
)

MAX_UPLOAD_TTL_S = 900
MAX_DOWNLOAD_TTL_S = 300


class BlobInfo(msgspec.Struct, frozen=True):
    size: int
    content_type: str


class BlobStore(Protocol):
    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_s: int
    ) -> str: ...

    async def presign_download(
        self,
        key: str,
        *,
        expires_s: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str: ...

    async def head(self, key: str) -> BlobInfo | None: ...

    async def read_prefix(self, key: str, length: int) -> bytes: ...

    async def delete(self, keys: Sequence[str]) -> None: ...

    async def keys(self, prefix: str) -> list[str]:
        """Every stored key that starts with ``prefix`` (audits, reconciliation, tests)."""
        ...

    def public_url(self, key: str) -> str: ...


def check_ttl(expires_s: int, limit: int) -> None:
    if not 1 <= expires_s <= limit:
        raise ValueError(f"presigned URL lifetime must be 1..{limit} s, not {expires_s}")
