"""Attachments: presign -> PUT to the blob store -> attach to a project, board or comment.

The row exists from the presign on (TEMP, bound to its uploader, workspace, entity type,
content type and size, which the presigned PUT's signature binds too). Attaching checks the
object is there with that size and, for formats that have one, the right magic bytes; it
then becomes CONFIRMED and belongs to its entity. When the entity is deleted its files are
discarded; the cleanup job deletes discarded files and expired uploads, objects first.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import PurePosixPath
from uuid import UUID

from wealist.board import store
from wealist.board.actions.common import (
    ADMINS,
    access_project,
    access_workspace,
    blobs_of,
    settings_of,
)
from wealist.board.rows import AttachmentRow
from wealist.board.schemas.attachments import (
    MAX_BYTES,
    AttachmentOut,
    PresignUpload,
    RegisterUpload,
    UploadUrl,
)
from wealist.core.blobs import BlobStore
from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)

__all__ = (
    "attach",
    "attachment_out",
    "do_delete_attachment",
    "do_presign",
    "do_purge",
    "do_register",
    "download_url",
    "list_files",
    "purge_soon",
)

NOT_FOUND = "attachment not found"
# extension -> the content types a browser may declare for it (contract 5.5)
TYPES: dict[str, frozenset[str]] = {
    "jpg": frozenset({"image/jpeg", "image/jpg"}),
    "jpeg": frozenset({"image/jpeg", "image/jpg"}),
    "png": frozenset({"image/png"}),
    "gif": frozenset({"image/gif"}),
    "webp": frozenset({"image/webp"}),
    "svg": frozenset({"image/svg+xml"}),
    "heic": frozenset({"image/heic", "image/heif"}),
    "pdf": frozenset({"application/pdf"}),
    "txt": frozenset({"text/plain"}),
    "md": frozenset({"text/markdown", "text/x-markdown", "text/plain"}),
    "csv": frozenset({"text/csv", "application/vnd.ms-excel", "text/plain"}),
    "doc": frozenset({"application/msword"}),
    "docx": frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
    "xls": frozenset({"application/vnd.ms-excel"}),
    "xlsx": frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    "ppt": frozenset({"application/vnd.ms-powerpoint"}),
    "pptx": frozenset(
        {"application/vnd.openxmlformats-officedocument.presentationml.presentation"}
    ),
    "zip": frozenset({"application/zip", "application/x-zip-compressed"}),
    "json": frozenset({"application/json"}),
}
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# extension -> accepted first bytes, for formats that have a signature
MAGIC: dict[str, tuple[bytes, ...]] = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
}
FOLDERS = {"BOARD": "boards", "COMMENT": "comments", "PROJECT": "projects"}
PURGE_BATCH = 100


def _extension(file_name: str, content_type: str) -> str:
    ext = PurePosixPath(file_name).suffix.lower().lstrip(".")
    if ext not in TYPES or content_type not in TYPES[ext]:
        raise BadRequest(
            f"files of type {content_type!r} named *.{ext or '?'} are not accepted",
            code="INVALID_FILE_TYPE",
        )
    return ext


def _check_size(size: int) -> None:
    if not 1 <= size <= MAX_BYTES:
        raise BadRequest(
            f"fileSize must be 1 byte to {MAX_BYTES // (1024 * 1024)} MB", code="FILE_TOO_LARGE"
        )


def attachment_out(ctx: ServiceContext, row: AttachmentRow) -> AttachmentOut:
    url = ctx.blobs.public_url(row.file_key) if ctx.blobs is not None else row.file_key
    return AttachmentOut(
        id=row.id,
        attachment_id=row.id,
        entity_type=row.entity_type,
        status=row.status,
        file_name=row.file_name,
        file_url=url,
        file_size=row.file_size,
        content_type=row.content_type,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.created_at,
        entity_id=row.entity_id,
        expires_at=row.expires_at,
    )


async def do_presign(ctx: ServiceContext, me: UUID, req: PresignUpload) -> UploadUrl:
    """Step 1: a presigned PUT for exactly this type and size, in a workspace of the caller."""
    _check_size(req.file_size)
    ext = _extension(req.file_name, req.content_type)
    await access_workspace(ctx, req.workspace_id, me)
    settings = settings_of(ctx)
    blobs = blobs_of(ctx)
    attachment_id = uuid.uuid4()
    now = datetime.now(UTC)
    # Server-made: nothing of the user's file name but its checked extension.
    key = (
        f"board/{FOLDERS[req.entity_type]}/{req.workspace_id}/{now:%Y/%m}/"
        f"{attachment_id}_{int(now.timestamp())}.{ext}"
    )
    url = await blobs.presign_upload(
        key, content_type=req.content_type, size=req.file_size, expires_s=settings.upload_url_ttl_s
    )
    async with ctx.database.transaction() as tx:
        if await store.attachments.pending_uploads(tx, me) >= settings.pending_uploads_per_user:
            raise TooManyRequests("too many unfinished uploads; attach them or wait an hour")
        await store.attachments.insert_upload(
            tx,
            attachment_id=attachment_id,
            workspace_id=req.workspace_id,
            entity_type=req.entity_type,
            key=key,
            name=req.file_name,
            size=req.file_size,
            content_type=req.content_type,
            user=me,
            ttl_s=settings.temp_attachment_ttl_s,
        )
    return UploadUrl(
        attachment_id=attachment_id,
        upload_url=url,
        file_key=key,
        expires_in=settings.upload_url_ttl_s,
    )


async def _check_uploaded(blobs: BlobStore, row: AttachmentRow) -> None:
    """The object exists with the declared size and, where the format has one, signature."""
    found = await blobs.head(row.file_key)
    if found is None:
        raise Conflict(f"{row.file_name} has not been uploaded yet", code="UPLOAD_INCOMPLETE")
    if found.size != row.file_size:
        raise ValidationFailed(f"{row.file_name}: the uploaded size differs from fileSize")
    ext = row.file_key.rsplit(".", 1)[-1]
    signatures = MAGIC.get(ext)
    if signatures is not None:
        head = await blobs.read_prefix(row.file_key, max(len(s) for s in signatures))
        if not head.startswith(signatures):
            raise BadRequest(f"{row.file_name} is not a .{ext} file", code="INVALID_FILE_TYPE")


async def do_register(ctx: ServiceContext, me: UUID, req: RegisterUpload) -> AttachmentOut:
    """Step 2 (the frontend's ``POST /api/attachments``): the upload checks out; it stays
    TEMP until an entity names it in ``attachmentIds``."""
    if not req.file_key.startswith("board/"):
        raise ValidationFailed("fileKey must be a key this service issued")
    async with ctx.database.connection() as conn:
        row = await store.attachments.attachment_by_key(conn, req.file_key)
    if row is None or row.uploaded_by != me:
        raise NotFound(NOT_FOUND)
    if (req.entity_type, req.file_size, req.content_type) != (
        row.entity_type,
        row.file_size,
        row.content_type,
    ):
        raise ValidationFailed("entityType, fileSize and contentType must be the presigned ones")
    if row.status == "TEMP":
        await _check_uploaded(blobs_of(ctx), row)
    return attachment_out(ctx, row)


async def attach(
    ctx: ServiceContext,
    tx: Tx,
    me: UUID,
    ids: list[UUID],
    *,
    entity_type: str,
    entity_id: UUID,
    project_id: UUID,
    workspace_id: UUID,
    board_id: UUID | None = None,
) -> None:
    """Step 3: the caller's uploads ``ids`` become files of the entity (400 for any that
    is not theirs, of another kind or workspace, expired, or not uploaded)."""
    if not ids:
        return
    rows = await store.attachments.uploads_to_confirm(tx, ids, me)
    found = {r.id: r for r in rows}
    for attachment_id in ids:
        row = found.get(attachment_id)
        if row is None:
            raise ValidationFailed(f"attachment {attachment_id} is not an upload of yours")
        if row.entity_type != entity_type or row.workspace_id != workspace_id:
            raise ValidationFailed(
                f"attachment {attachment_id} was uploaded for a {row.entity_type.lower()} "
                "of another place"
            )
    blobs = blobs_of(ctx)
    await asyncio.gather(*(_check_uploaded(blobs, row) for row in rows))
    await store.attachments.confirm_uploads(
        tx, ids, entity=entity_id, project=project_id, board=board_id
    )


async def _visible(ctx: ServiceContext, conn: Conn, me: UUID, attachment_id: UUID) -> AttachmentRow:
    """An attachment the caller may see: their own upload, or a file of a project they read."""
    row = await store.attachments.attachment_by_id(conn, attachment_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    if row.status == "TEMP" or row.project_id is None:
        if row.uploaded_by != me:
            raise NotFound(NOT_FOUND)
        return row
    try:
        await access_project(ctx, conn, row.project_id, me)
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    return row


async def download_url(ctx: ServiceContext, me: UUID, attachment_id: UUID) -> str:
    """A short-lived URL that downloads the file as an attachment under its name."""
    async with ctx.database.connection() as conn:
        row = await _visible(ctx, conn, me, attachment_id)
    return await blobs_of(ctx).presign_download(
        row.file_key,
        expires_s=settings_of(ctx).download_url_ttl_s,
        filename=row.file_name,
        content_type=row.content_type,
    )


async def list_files(
    ctx: ServiceContext, me: UUID, entity_type: str, entity_id: UUID
) -> list[AttachmentOut]:
    """The files of a project, board or comment, for whoever may read it."""
    async with ctx.database.connection() as conn:
        if entity_type == "PROJECT":
            project_id: UUID | None = entity_id
        elif entity_type == "BOARD":
            project_id = await store.boards.board_project(conn, entity_id)
        else:
            project_id = await store.comments.comment_project(conn, entity_id)
        if project_id is None:
            raise NotFound(f"{entity_type.lower()} not found")
        try:
            await access_project(ctx, conn, project_id, me)
        except NotFound:
            raise NotFound(f"{entity_type.lower()} not found") from None
        rows = await store.attachments.files_of_entity(conn, entity_id, entity_type)
    return [attachment_out(ctx, r) for r in rows]


async def do_delete_attachment(ctx: ServiceContext, me: UUID, attachment_id: UUID) -> None:
    """The uploader (or, for a project's file, its OWNER or an ADMIN) deletes a file."""
    async with ctx.database.transaction() as tx:
        row = await _visible(ctx, tx, me, attachment_id)
        if row.uploaded_by != me:
            assert row.project_id is not None  # others only see confirmed files
            seat = await access_project(ctx, tx, row.project_id, me)
            if seat.role not in ADMINS:
                raise Forbidden("only the uploader or a project admin can delete this file")
        await store.attachments.discard(tx, attachment=row.id)
        tx.on_commit(lambda: purge_soon(ctx))


# --- cleanup ----------------------------------------------------------------------------


async def do_purge(ctx: ServiceContext) -> int:
    """Delete one batch of discarded files and expired uploads, objects first; returns how
    many. Rows are claimed with SKIP LOCKED, so replicas share the work; a failed object
    delete rolls the batch back and it is retried next time."""
    async with ctx.database.transaction() as tx:
        rows = await store.attachments.claim_purge(tx, PURGE_BATCH)
        if not rows:
            return 0
        if ctx.blobs is not None:
            await ctx.blobs.delete([r.file_key for r in rows])
        await store.attachments.delete_attachments(tx, [r.id for r in rows])
    return len(rows)


def purge_soon(ctx: ServiceContext) -> None:
    """Purge in the background now (after a delete), not at the next hourly round."""
    tasks: set[asyncio.Task[int]] = ctx.state.setdefault("purges", set())
    task = asyncio.create_task(_purge_quietly(ctx))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _purge_quietly(ctx: ServiceContext) -> int:
    purged = 0
    try:
        while (batch := await do_purge(ctx)) > 0:
            purged += batch
    except Exception as exc:  # noqa: BLE001  # the hourly job retries
        ctx.log.warning("attachments.purge_failed", error=type(exc).__name__, detail=str(exc))
    return purged
