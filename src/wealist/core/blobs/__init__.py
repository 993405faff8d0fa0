"""Blob storage behind one interface (:class:`BlobStore`), with two backends.

- :class:`S3BlobStore`: S3 or MinIO through aioboto3, when ``WEALIST_S3_BUCKET`` is set.
- :class:`LocalBlobStore`: a directory on this machine, when ``WEALIST_BLOB_DIR`` is set
  instead; its signed URLs are served by the kernel's ``/api/blobs`` route
  (:mod:`wealist.core.blobs.http`).

With neither, services that store files answer uploads with 503 ``STORAGE_NOT_CONFIGURED``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from wealist.core.blobs.base import MAX_DOWNLOAD_TTL_S, MAX_UPLOAD_TTL_S, BlobInfo, BlobStore
from wealist.core.blobs.local import LocalBlobStore
from wealist.core.blobs.s3 import S3BlobStore
from wealist.core.settings import CoreSettings

__all__ = (
    "MAX_DOWNLOAD_TTL_S",
    "MAX_UPLOAD_TTL_S",
    "BlobInfo",
    "BlobStore",
    "LocalBlobStore",
    "S3BlobStore",
    "blob_backend",
    "make_blob_store",
)

Backend = Literal["s3", "local"]


def blob_backend(settings: CoreSettings) -> Backend | None:
    """Which backend the settings choose: S3 when a bucket is named, else a local directory."""
    if settings.s3_bucket:
        return "s3"
    if settings.blob_dir:
        return "local"
    return None


def make_blob_store(
    settings: CoreSettings, default_public_url: str
) -> S3BlobStore | LocalBlobStore | None:
    """The configured store (not yet opened), or None when none is configured.

    ``default_public_url`` is this service's own address, where the local store's URLs
    point unless ``WEALIST_BLOB_PUBLIC_URL`` names another (a gateway).
    """
    backend = blob_backend(settings)
    if backend == "s3":
        return S3BlobStore(settings)
    if backend == "local":
        return LocalBlobStore(
            Path(settings.blob_dir),
            settings.blob_secret,
            settings.blob_public_url or default_public_url,
        )
    return None
