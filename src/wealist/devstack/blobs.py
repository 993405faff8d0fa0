"""Where ``wealist up`` keeps uploaded files: S3 when the environment names a bucket, else
a directory under the data dir, served by the services themselves (``/api/blobs``).

Every service gets the same directory and signing secret, so any of them can serve an
object another one stored; URLs point at the storage service, which the gateway routes
``/api/storage`` to anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ("blob_env", "describe_blobs")

S3_VARIABLES = ("WEALIST_S3_BUCKET", "WEALIST_S3_BUCKET_FILE")


def blob_env(
    environ: Mapping[str, str], root: Path, secret: str, storage_url: str
) -> dict[str, str]:
    """The variables to add for the local backend; none when S3 is configured."""
    if any(name in environ for name in S3_VARIABLES):
        return {}
    wanted = {
        "WEALIST_BLOB_DIR": str(root / "blobs"),
        "WEALIST_BLOB_SECRET": secret,
        "WEALIST_BLOB_PUBLIC_URL": storage_url,
    }
    return {
        name: value
        for name, value in wanted.items()
        if name not in environ and f"{name}_FILE" not in environ
    }


def describe_blobs(env: Mapping[str, str]) -> str:
    """One line for ``wealist up``'s summary."""
    if "WEALIST_S3_BUCKET" in env:
        endpoint = env.get("WEALIST_S3_ENDPOINT") or "AWS"
        return f"s3 bucket {env['WEALIST_S3_BUCKET']} ({endpoint})"
    if "WEALIST_S3_BUCKET_FILE" in env:
        return "s3 (bucket from WEALIST_S3_BUCKET_FILE)"
    return f"{env.get('WEALIST_BLOB_DIR', '-')}/ (local directory)"
