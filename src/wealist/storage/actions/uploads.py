"""Uploads: a presigned PUT bound to one object, then a confirm that checks it.

Issuing a URL needs EDIT where the file goes (or on the file, for a new version), an
allowed extension, a size within the limit and room in the workspace's quota, which the
pending upload then reserves. The key is the server's (``storage/{ws}/{file}/{version}``),
never the user's file name. Confirming checks that the object exists with the declared
size, type and first bytes, and the quota again, before the file (or version) is ACTIVE;
an upload the quota refuses at confirm is deleted, object and rows.
"""

from __future__ import annotations

import posixpath
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from wealist.core.blobs import BlobStore
from wealist.core.context import ServiceContext
from wealist.core.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from wealist.storage import store
from wealist.storage.actions.common import (
    EDIT,
    access_file,
    access_place,
    access_workspace,
    blobs_of,
    check_quota,
    discard_after_commit,
    file_out,
    settings_of,
    unique_file_name,
)
from wealist.storage.rows import FileRow, Place, VersionRow
from wealist.storage.schemas import (
    ConfirmUpload,
    FileOut,
    UploadUrlOut,
    UploadUrlRequest,
    VersionUploadRequest,
)

__all__ = ("check_extension", "do_confirm_upload", "do_issue_upload", "do_issue_version_upload")

UPLOAD_NOT_FOUND = "upload not found"
ALLOWED_EXTENSIONS = frozenset(
    [
        *("jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "ico"),
        *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "odt", "ods", "odp"),
        *("zip", "rar", "7z", "tar", "gz"),
        *("mp4", "avi", "mov", "wmv", "flv", "webm", "mkv"),
        *("mp3", "wav", "ogg", "flac", "aac", "wma"),
    ]
)
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# The first bytes of the types whose signature is fixed; other types are not sniffed.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/jpg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/bmp": (b"BM",),
    "application/pdf": (b"%PDF-",),
    "application/zip": ZIP,
    "application/x-zip-compressed": ZIP,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ZIP,
    "application/gzip": (b"\x1f\x8b",),
    "application/x-gzip": (b"\x1f\x8b",),
    "application/x-7z-compressed": (b"7z\xbc\xaf\x27\x1c",),
}
SNIFF_BYTES = 16


def check_extension(name: str) -> None:
    extension = posixpath.splitext(name)[1].lower().lstrip(".")
    if extension not in ALLOWED_EXTENSIONS:
        raise BadRequest(
            f"files of type {'.' + extension if extension else '(none)'} are not accepted",
            code="INVALID_FILE_TYPE",
        )


def looks_like(content_type: str, head: bytes) -> bool:
    """Whether the first bytes fit the declared type (types without a signature pass)."""
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    expected = MAGIC.get(kind)
    return expected is None or head.startswith(expected)


def _check_size(ctx: ServiceContext, size: int) -> None:
    limit = settings_of(ctx).max_file_bytes
    if size > limit:
        raise ValidationFailed(f"fileSize is over the limit of {limit} bytes")


def _key(workspace_id: UUID, file_id: UUID, version_id: UUID) -> str:
    return f"storage/{workspace_id}/{file_id}/{version_id}"


async def _issued(
    ctx: ServiceContext, key: str, file_id: UUID, version_id: UUID, *, content_type: str, size: int
) -> UploadUrlOut:
    ttl = settings_of(ctx).upload_url_ttl_s
    url = await blobs_of(ctx).presign_upload(
        key, content_type=content_type, size=size, expires_s=ttl
    )
    return UploadUrlOut(
        upload_url=url,
        file_key=key,
        file_id=file_id,
        version_id=version_id,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        content_type=content_type,
        file_size=size,
    )


async def do_issue_upload(ctx: ServiceContext, me: UUID, req: UploadUrlRequest) -> UploadUrlOut:
    """Step 1 of a new file: its UPLOADING row and a URL for exactly the declared object."""
    check_extension(req.file_name)
    _check_size(ctx, req.file_size)
    blobs_of(ctx)
    file_id, version_id = uuid.uuid4(), uuid.uuid4()
    key = _key(req.workspace_id, file_id, version_id)
    expires = datetime.now(UTC) + timedelta(seconds=settings_of(ctx).pending_upload_ttl_s)
    async with ctx.database.transaction() as tx:
        place, _ = await access_place(
            ctx,
            tx,
            me,
            workspace_id=req.workspace_id,
            project_id=req.project_id,
            folder_id=req.folder_id,
        )
        await check_quota(ctx, tx, req.workspace_id, req.file_size, with_pending=True)
        await store.insert_upload(
            tx,
            file_id=file_id,
            version_id=version_id,
            workspace_id=place.workspace_id,
            project_id=place.project_id,
            folder_id=place.folder_id,
            name=req.file_name,
            key=key,
            size=req.file_size,
            content_type=req.content_type,
            user=me,
            expires=expires,
        )
    return await _issued(
        ctx, key, file_id, version_id, content_type=req.content_type, size=req.file_size
    )


async def do_issue_version_upload(
    ctx: ServiceContext, me: UUID, file_id: UUID, req: VersionUploadRequest
) -> UploadUrlOut:
    """Step 1 of a new version of an active file (the old versions stay)."""
    _check_size(ctx, req.file_size)
    blobs_of(ctx)
    version_id = uuid.uuid4()
    expires = datetime.now(UTC) + timedelta(seconds=settings_of(ctx).pending_upload_ttl_s)
    async with ctx.database.transaction() as tx:
        seat = await access_file(ctx, tx, file_id, me, EDIT)
        if req.file_name is not None:
            check_extension(req.file_name)
        key = _key(seat.workspace_id, file_id, version_id)
        await check_quota(ctx, tx, seat.workspace_id, req.file_size, with_pending=True)
        await store.insert_version_upload(
            tx,
            version_id=version_id,
            file_id=file_id,
            workspace_id=seat.workspace_id,
            name=req.file_name or seat.name,
            key=key,
            size=req.file_size,
            content_type=req.content_type,
            user=me,
            expires=expires,
        )
    return await _issued(
        ctx, key, file_id, version_id, content_type=req.content_type, size=req.file_size
    )


async def _check_object(blobs: BlobStore, version: VersionRow) -> None:
    """The object exists with the declared size and type, and its first bytes fit."""
    found = await blobs.head(version.file_key)
    if found is None:
        raise Conflict("the file has not been uploaded yet", code="UPLOAD_INCOMPLETE")
    if found.size != version.file_size:
        raise ValidationFailed("the uploaded file's size differs from the declared fileSize")
    if found.content_type.split(";")[0].strip().lower() != version.content_type.lower():
        raise ValidationFailed("the uploaded file's type differs from the declared contentType")
    head = await blobs.read_prefix(version.file_key, SNIFF_BYTES)
    if not looks_like(version.content_type, head):
        raise BadRequest(
            f"the file's content is not {version.content_type}", code="INVALID_FILE_TYPE"
        )


async def _pending(ctx: ServiceContext, me: UUID, req: ConfirmUpload) -> tuple[FileRow, VersionRow]:
    async with ctx.database.connection() as conn:
        file = await store.file_seat(conn, req.file_id, me)
        version = (
            await store.version_by_id(conn, req.version_id)
            if req.version_id is not None
            else await store.pending_first_version(conn, req.file_id)
        )
    if (
        version is None
        and file is not None
        and file.uploaded_by == me
        and file.status != "UPLOADING"
    ):
        await access_workspace(ctx, file.workspace_id, me)
        raise Conflict("this upload is already confirmed")
    mine = file is not None and version is not None and version.uploaded_by == me
    if not mine or version is None or file is None or version.file_id != file.id:
        raise NotFound(UPLOAD_NOT_FOUND)
    try:
        await access_workspace(ctx, file.workspace_id, me)
    except NotFound:
        raise NotFound(UPLOAD_NOT_FOUND) from None
    if version.status != "UPLOADING":
        raise Conflict("this upload is already confirmed")
    return file, version


async def _refuse(ctx: ServiceContext, version: VersionRow) -> None:
    """An upload the quota turned down at confirm: its object and rows go."""
    async with ctx.database.transaction() as tx:
        await store.doom(tx, [version.file_key])
        await store.drop_uploads(tx, [version.id])
        discard_after_commit(ctx, tx, [version.file_key])


async def do_confirm_upload(ctx: ServiceContext, me: UUID, req: ConfirmUpload) -> FileOut:
    """Step 3: the uploader's checked object becomes the file (or its newest version)."""
    blobs = blobs_of(ctx)
    file, version = await _pending(ctx, me, req)
    await _check_object(blobs, version)
    try:
        async with ctx.database.transaction() as tx:
            locked = await store.lock_file(tx, file.id)
            current = await store.lock_version(tx, version.id)
            if locked is None or current is None or current.status != "UPLOADING":
                raise Conflict("this upload is already confirmed or gone")
            if current.upload_expires_at <= datetime.now(UTC):
                raise Conflict("this upload has expired; upload the file again")
            first = locked.status == "UPLOADING"
            if not first and locked.status != "ACTIVE":
                raise Conflict("the file is in the trash; restore it first")
            if first and locked.folder_id is not None:
                folder = await store.folder_seat(tx, locked.folder_id, me)
                if folder is None or folder.deleted_at is not None:
                    raise Conflict("the folder this file was going into was deleted")
            await check_quota(ctx, tx, locked.workspace_id, current.file_size, with_pending=False)
            name = locked.name
            if first:
                place = Place(locked.workspace_id, locked.project_id, locked.folder_id)
                await store.lock_names(tx, place.lock_key)
                name = await unique_file_name(tx, place, locked.name)
            number = await store.activate_version(tx, current.id, locked.id)
            row = await store.set_current(
                tx,
                locked.id,
                name=name,
                key=current.file_key,
                size=current.file_size,
                content_type=current.content_type,
                number=number,
            )
    except PayloadTooLarge:
        await _refuse(ctx, version)
        raise
    return file_out(ctx, row)
