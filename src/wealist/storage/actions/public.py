"""Public links: what anyone holding an unexpired link may see and download.

A link names one file or folder; the item must still be live. Downloads are short-lived
presigned GETs; a password-protected link needs its password for them (sent in the body,
never in the URL), and password attempts are limited per link. A deleted link or item
stops working at once.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

from redis.exceptions import RedisError

from wealist.core.context import ServiceContext
from wealist.core.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from wealist.core.ratelimit import FixedWindow
from wealist.storage import store
from wealist.storage.actions.common import file_out, folder_out, settings_of
from wealist.storage.actions.files import presigned_download
from wealist.storage.actions.shares import check_password, is_expired, share_out
from wealist.storage.rows import ShareRow
from wealist.storage.schemas import DownloadOut, PublicDownload, PublicShareOut, ShareOut

__all__ = ("link_details", "link_download", "link_share")

LINK_NOT_FOUND = "share link not found"


async def _live_link(ctx: ServiceContext, link: str) -> ShareRow:
    async with ctx.database.connection() as conn:
        row = await store.share_by_link(conn, link)
    if row is None or row.entity_name is None:
        raise NotFound(LINK_NOT_FOUND)
    if is_expired(row):
        raise Forbidden("this share link has expired", code="SHARE_EXPIRED")
    return row


async def link_share(ctx: ServiceContext, link: str) -> ShareOut:
    """The link's share (contract 8.4's link lookup; metadata only)."""
    return share_out(await _live_link(ctx, link))


async def link_details(ctx: ServiceContext, link: str) -> PublicShareOut:
    """The share and its item (what the frontend's ``/public/storage/share/{link}`` reads)."""
    row = await _live_link(ctx, link)
    async with ctx.database.connection() as conn:
        if row.file_id is not None:
            found = await store.file_seat(conn, row.file_id, row.shared_by_id)
            if found is None or found.status != "ACTIVE":
                raise NotFound(LINK_NOT_FOUND)
            return PublicShareOut(share=share_out(row), file=file_out(ctx, found))
        assert row.folder_id is not None  # the table's CHECK
        folder = await store.folder_seat(conn, row.folder_id, row.shared_by_id)
    if folder is None or folder.deleted_at is not None:
        raise NotFound(LINK_NOT_FOUND)
    return PublicShareOut(share=share_out(row), folder=folder_out(folder))


async def _check_attempt(ctx: ServiceContext, link: str) -> None:
    limiter = FixedWindow(
        ctx.redis, "storage:share-pw:", settings_of(ctx).share_password_attempts_per_min, 60
    )
    key = hashlib.sha256(link.encode()).hexdigest()[:32]  # the link itself stays out of Redis
    try:
        wait = await limiter.hit(key)
    except RedisError:
        raise ServiceUnavailable("password checks are unavailable; try again soon") from None
    if wait:
        raise TooManyRequests(
            "too many password attempts for this link", headers={"Retry-After": str(wait)}
        )


async def link_download(ctx: ServiceContext, link: str, req: PublicDownload) -> DownloadOut:
    """A short-lived download URL of the linked file, or of a file inside the linked folder."""
    row = await _live_link(ctx, link)
    if row.password_hash is not None:
        await _check_attempt(ctx, link)
        if not await check_password(row, req.password):
            raise Unauthorized("this link needs its password", code="SHARE_PASSWORD_REQUIRED")
    target: UUID | None = row.file_id or req.file_id
    if target is None:
        raise ValidationFailed("fileId: which file of the shared folder to download")
    if row.file_id is not None and req.file_id not in {None, row.file_id}:
        raise NotFound("file not found")
    async with ctx.database.connection() as conn:
        found = await store.file_seat(conn, target, row.shared_by_id)
        folder = (
            await store.folder_seat(conn, found.folder_id, row.shared_by_id)
            if found is not None and row.folder_id is not None and found.folder_id is not None
            else None
        )
    if found is None or found.status != "ACTIVE" or found.workspace_id != row.workspace_id:
        raise NotFound("file not found")
    if row.folder_id is not None:
        inside = folder is not None and row.folder_id in folder.ancestors
        direct = found.folder_id == row.folder_id
        if not (direct or (inside and row.include_children)):
            raise NotFound("file not found")
    return await presigned_download(ctx, found.file_key, found.name, found.content_type)
