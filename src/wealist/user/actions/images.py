"""Profile images: presign, check the upload, confirm; and the cleanup of leftovers.

The attachment row exists from the presign on, bound to the user it was issued to, with
the declared type and size that the presigned PUT's signature also binds. Before an image
is attached, the object's size, type and first bytes are checked against that.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from wealist.core.blobs import BlobStore
from wealist.core.context import ServiceContext
from wealist.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from wealist.user import store
from wealist.user.actions.profiles import access_profile_workspace, profile_out
from wealist.user.rows import AttachmentRow
from wealist.user.schemas import (
    AttachmentOut,
    ImageUploadRequest,
    ImageUploadUrl,
    ProfileOut,
    SaveAttachment,
)
from wealist.user.settings import UserSettings

__all__ = ("do_confirm_image", "do_presign_image", "do_purge_attachments", "do_save_attachment")

UPLOAD_NOT_FOUND = "upload not found"
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}
MAGIC_BYTES = 12


def looks_like(content_type: str, head: bytes) -> bool:
    """Whether the file's first bytes are those of ``content_type``."""
    if content_type in {"image/jpeg", "image/jpg"}:
        return head.startswith(b"\xff\xd8\xff")
    if content_type == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return False


def _settings(ctx: ServiceContext) -> UserSettings:
    settings = ctx.settings
    assert isinstance(settings, UserSettings)
    return settings


def _blobs(ctx: ServiceContext) -> BlobStore:
    if ctx.blobs is None:
        raise ServiceUnavailable(
            "file uploads are not configured: set WEALIST_S3_BUCKET and WEALIST_S3_ENDPOINT",
            code="STORAGE_NOT_CONFIGURED",
        )
    return ctx.blobs


def attachment_out(row: AttachmentRow) -> AttachmentOut:
    return AttachmentOut(
        attachment_id=row.id,
        entity_type=row.entity_type,
        status=row.status,
        file_name=row.file_name,
        file_url=row.file_url,
        file_size=row.file_size,
        content_type=row.content_type,
        uploaded_by=row.uploaded_by,
        expires_at=row.expires_at,
        created_at=row.created_at,
        entity_id=row.entity_id,
    )


async def do_presign_image(
    ctx: ServiceContext, me: UUID, req: ImageUploadRequest
) -> ImageUploadUrl:
    """A presigned PUT for one image of exactly the declared type and size."""
    settings = _settings(ctx)
    if req.file_size > settings.profile_image_max_bytes:
        raise ValidationFailed(
            f"fileSize is over the limit of {settings.profile_image_max_bytes} bytes"
        )
    blobs = _blobs(ctx)
    attachment_id = uuid.uuid4()
    # Server-generated: nothing of the user's file name reaches the key.
    key = f"profiles/{attachment_id}/image.{EXTENSIONS[req.content_type]}"
    now = datetime.now(UTC)
    upload_url = await blobs.presign_upload(
        key, content_type=req.content_type, size=req.file_size, expires_s=settings.upload_url_ttl_s
    )
    async with ctx.database.transaction() as tx:
        if await store.count_pending_uploads(tx, me) >= settings.pending_uploads_per_user:
            raise TooManyRequests("too many unfinished uploads; confirm or wait for them to expire")
        await store.insert_attachment(
            tx,
            attachment_id=attachment_id,
            key=key,
            name=req.file_name,
            url=blobs.public_url(key),
            size=req.file_size,
            content_type=req.content_type,
            user=me,
            expires_at=now + timedelta(seconds=settings.temp_attachment_ttl_s),
        )
    return ImageUploadUrl(
        upload_url=upload_url,
        file_key=key,
        expires_at=int(now.timestamp()) + settings.upload_url_ttl_s,
        attachment_id=attachment_id,
        content_type=req.content_type,
    )


async def check_uploaded(blobs: BlobStore, row: AttachmentRow) -> None:
    """The object exists with the declared size, type and matching first bytes."""
    found = await blobs.head(row.file_key)
    if found is None:
        raise Conflict("the file has not been uploaded yet", code="UPLOAD_INCOMPLETE")
    if found.size != row.file_size:
        raise ValidationFailed("the uploaded file's size differs from the declared fileSize")
    if found.content_type.split(";")[0].strip().lower() != row.content_type:
        raise ValidationFailed("the uploaded file's type differs from the declared contentType")
    if not looks_like(row.content_type, await blobs.read_prefix(row.file_key, MAGIC_BYTES)):
        raise BadRequest(f"the file is not a {row.content_type} image", code="INVALID_FILE_TYPE")


async def do_save_attachment(ctx: ServiceContext, me: UUID, req: SaveAttachment) -> AttachmentOut:
    """Step 2: accept an upload the caller was given a URL for, once it checks out."""
    blobs = _blobs(ctx)
    async with ctx.database.connection() as conn:
        row = await store.attachment_by_key(conn, req.file_key)
    if row is None or row.uploaded_by != me:
        raise NotFound(UPLOAD_NOT_FOUND)
    if row.status != "TEMP":
        raise Conflict("this upload is already attached")
    if (req.content_type, req.file_size) != (row.content_type, row.file_size):
        raise ValidationFailed("contentType and fileSize must be those the upload URL was for")
    await check_uploaded(blobs, row)
    async with ctx.database.connection() as conn:
        saved = await store.mark_uploaded(conn, row.id, req.file_name)
    if saved is None:
        raise Conflict("this upload is already attached")
    return attachment_out(saved)


async def do_confirm_image(
    ctx: ServiceContext, me: UUID, workspace_id: UUID | None, attachment_id: UUID
) -> ProfileOut:
    """Step 3: the uploaded image becomes the profile's (created if missing); the image it
    replaces is deleted by the cleanup job."""
    async with ctx.database.transaction() as tx:
        target = await access_profile_workspace(tx, me, workspace_id)
        row = await store.lock_attachment(tx, attachment_id)
        if row is None:
            raise NotFound("attachment not found")
        if row.uploaded_by != me:
            raise Forbidden("only the uploader can use this attachment")
        if row.status != "TEMP":
            raise Conflict("this attachment is already confirmed")
        if row.expires_at <= datetime.now(UTC):
            raise Conflict("this upload has expired; upload the image again")
        if row.uploaded_at is None:
            await check_uploaded(_blobs(ctx), row)
        profile = await store.upsert_profile(
            tx, user=me, workspace_id=target, nick_name=None, image=row.file_url
        )
        if profile is None:
            raise NotFound("user not found")
        await store.confirm_attachment(tx, row.id, profile.id)
    return profile_out(profile)


async def do_purge_attachments(ctx: ServiceContext, batch: int = 100) -> int:
    """Delete one batch of expired uploads and replaced images, objects first; returns
    how many. Rows are claimed with SKIP LOCKED, so replicas share the work; a failed
    object delete rolls the batch back and it is retried next time."""
    async with ctx.database.transaction() as tx:
        rows = await store.claim_purgeable(tx, batch)
        if not rows:
            return 0
        if ctx.blobs is not None:
            await ctx.blobs.delete([r.file_key for r in rows])
        await store.delete_attachments(tx, [r.id for r in rows])
    return len(rows)
