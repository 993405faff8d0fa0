"""Chat images: a presigned PUT for the browser, and the URL the message will carry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import PurePosixPath
from uuid import UUID

from wealist.chat.actions.common import access_workspace, settings_of
from wealist.chat.schemas import PresignFile, PresignOut
from wealist.core.context import ServiceContext
from wealist.core.errors import ServiceUnavailable

__all__ = ("do_presign_file",)

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


async def do_presign_file(ctx: ServiceContext, me: UUID, new: PresignFile) -> PresignOut:
    """Key ``chat/{workspaceId}/{YYYY}/{MM}/{uuid}_{unix}{ext}`` (contract 6.1); members only."""
    await access_workspace(ctx, new.workspace_id, me)
    if ctx.blobs is None:
        raise ServiceUnavailable("file uploads are not configured")
    settings = settings_of(ctx)
    now = datetime.now(UTC)
    suffix = PurePosixPath(new.file_name).suffix.lower()
    ext = (
        suffix
        if suffix in _EXTENSIONS.values() or suffix == ".jpeg"
        else _EXTENSIONS[new.content_type]
    )
    key = f"chat/{new.workspace_id}/{now:%Y}/{now:%m}/{uuid.uuid4()}_{int(now.timestamp())}{ext}"
    upload = await ctx.blobs.presign_upload(
        key,
        content_type=new.content_type,
        size=new.file_size,
        expires_s=settings.upload_url_ttl_s,
    )
    download = await ctx.blobs.presign_download(key, expires_s=settings.download_url_ttl_s)
    return PresignOut(upload, download, key, settings.upload_url_ttl_s)
