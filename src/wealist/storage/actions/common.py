"""What every storage action shares: ids, who may do what to an item, names, replies.

Access policy, one rule for every route:
- Whoever is not an active member of the item's workspace gets 404, as if it did not exist.
- A member's permission on a file or folder is the best of: their drive permission
  (the workspace's own drive: EDITOR for every member; a shared drive: their membership, else
  the drive's default when it is public, else none) and the shares of the item or of a folder
  above it. None -> 404 (private drives do not leak); too little -> 403.
- VIEW reads and downloads; EDIT changes, trashes, restores, deletes and shares; MANAGE
  (drive OWNER) also manages the drive.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from wealist.core.blobs import BlobStore
from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.core.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from wealist.core.ids import decode_cursor, encode_cursor, parse_uuid
from wealist.core.security import Principal
from wealist.storage import store
from wealist.storage.rows import (
    FileRow,
    FileSeat,
    FolderRow,
    FolderSeat,
    Place,
    ProjectSeat,
    ProjectView,
)
from wealist.storage.schemas import FileOut, FolderOut, ProjectOut
from wealist.storage.settings import StorageSettings

__all__ = (
    "DRIVE_LEVELS",
    "EDIT",
    "MANAGE",
    "NIL",
    "VIEW",
    "access_file",
    "access_folder",
    "access_place",
    "access_project",
    "access_workspace",
    "blobs_of",
    "caller_id",
    "check_quota",
    "decode_cursor",
    "discard_after_commit",
    "drive_level",
    "encode_cursor",
    "escape_like",
    "file_out",
    "folder_out",
    "free_name",
    "item_level",
    "parse_uuid",
    "project_out",
    "settings_of",
    "unique_file_name",
    "unique_folder_name",
)

VIEW, EDIT, MANAGE = 1, 2, 3
DRIVE_LEVELS = {"VIEWER": VIEW, "EDITOR": EDIT, "OWNER": MANAGE}
NIL = UUID(int=0)
DOCUMENTS = frozenset(
    [
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".txt",
        ".rtf",
        ".odt",
        ".ods",
        ".odp",
    ]
)


def caller_id(caller: Principal) -> UUID:
    return parse_uuid(caller.user_id, "token subject")


def settings_of(ctx: ServiceContext) -> StorageSettings:
    settings = ctx.settings
    assert isinstance(settings, StorageSettings)
    return settings


def blobs_of(ctx: ServiceContext) -> BlobStore:
    if ctx.blobs is None:
        raise ServiceUnavailable(
            "file storage is not configured: set WEALIST_S3_BUCKET, or WEALIST_BLOB_DIR",
            code="STORAGE_NOT_CONFIGURED",
        )
    return ctx.blobs


# --- permissions ------------------------------------------------------------------------


def drive_level(
    project_id: UUID | None,
    member_permission: str | None,
    project_public: bool | None,
    default_permission: str | None,
) -> int:
    if project_id is None:
        return EDIT  # the workspace's own drive belongs to every member
    if member_permission is not None:
        return DRIVE_LEVELS[member_permission]
    if project_public and default_permission is not None:
        return DRIVE_LEVELS[default_permission]
    return 0


def item_level(seat: FolderSeat | FileSeat) -> int:
    if seat.project_deleted:
        return 0
    drive = drive_level(
        seat.project_id, seat.member_permission, seat.project_public, seat.default_permission
    )
    return max(drive, seat.share_level or 0)


def _require(level: int, need: int, what: str) -> None:
    if level < need:
        verb = {VIEW: "see", EDIT: "change", MANAGE: "manage"}[need]
        raise Forbidden(f"you may not {verb} this {what}")


async def access_workspace(ctx: ServiceContext, workspace_id: UUID, me: UUID) -> None:
    """404 unless the caller is an active member of the workspace (cache first)."""
    membership = await ctx.membership.get(str(workspace_id), str(me))
    if not membership.is_member:
        raise NotFound("workspace not found")


async def _member_or_hidden(ctx: ServiceContext, workspace_id: UUID, me: UUID, what: str) -> None:
    try:
        await access_workspace(ctx, workspace_id, me)
    except NotFound:
        raise NotFound(f"{what} not found") from None


async def access_project(
    ctx: ServiceContext, conn: Conn, project_id: UUID, me: UUID, need: int = VIEW
) -> ProjectSeat:
    seat = await store.project_seat(conn, project_id, me)
    if seat is None:
        raise NotFound("project not found")
    level = drive_level(seat.id, seat.permission, seat.is_public, seat.default_permission)
    if level == 0:
        raise NotFound("project not found")
    await _member_or_hidden(ctx, seat.workspace_id, me, "project")
    _require(level, need, "project")
    return seat


async def access_folder(
    ctx: ServiceContext,
    conn: Conn,
    folder_id: UUID,
    me: UUID,
    need: int = VIEW,
    *,
    trashed: bool = False,
) -> FolderSeat:
    """The folder if the caller may act on it; ``trashed`` also finds it in the trash."""
    seat = await store.folder_seat(conn, folder_id, me)
    if seat is None or item_level(seat) == 0 or (seat.deleted_at is not None and not trashed):
        raise NotFound("folder not found")
    await _member_or_hidden(ctx, seat.workspace_id, me, "folder")
    _require(item_level(seat), need, "folder")
    return seat


async def access_file(
    ctx: ServiceContext,
    conn: Conn,
    file_id: UUID,
    me: UUID,
    need: int = VIEW,
    *,
    trashed: bool = False,
) -> FileSeat:
    """The file if the caller may act on it; unfinished uploads are nobody's to see."""
    seat = await store.file_seat(conn, file_id, me)
    hidden = seat is None or seat.status == "UPLOADING" or item_level(seat) == 0
    if hidden or (seat is not None and seat.status == "DELETED" and not trashed):
        raise NotFound("file not found")
    assert seat is not None
    await _member_or_hidden(ctx, seat.workspace_id, me, "file")
    _require(item_level(seat), need, "file")
    return seat


async def access_place(
    ctx: ServiceContext,
    conn: Conn,
    me: UUID,
    *,
    workspace_id: UUID,
    project_id: UUID | None,
    folder_id: UUID | None,
    need: int = EDIT,
) -> tuple[Place, FolderSeat | None]:
    """Where something is put (a folder, or a drive's root), if the caller may."""
    if folder_id is not None:
        folder = await access_folder(ctx, conn, folder_id, me, need)
        if folder.workspace_id != workspace_id:
            raise NotFound("folder not found")
        if project_id is not None and folder.project_id != project_id:
            raise ValidationFailed("the folder belongs to another drive")
        return Place(workspace_id, folder.project_id, folder_id), folder
    if project_id is not None:
        project = await access_project(ctx, conn, project_id, me, need)
        if project.workspace_id != workspace_id:
            raise NotFound("project not found")
        return Place(workspace_id, project_id, None), None
    await access_workspace(ctx, workspace_id, me)
    return Place(workspace_id, None, None), None


# --- names ------------------------------------------------------------------------------


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def split_name(name: str, keep_extension: bool) -> tuple[str, str]:
    if not keep_extension:
        return name, ""
    stem, ext = posixpath.splitext(name)
    return stem, ext


def like_variants(name: str, keep_extension: bool) -> str:
    """A LIKE pattern matching ``name``'s numbered variants."""
    stem, ext = split_name(name, keep_extension)
    return f"{escape_like(stem)} (%){escape_like(ext)}"


def free_name(name: str, taken: Sequence[str], keep_extension: bool) -> str:
    """``name``, or ``"stem (n).ext"`` with the smallest n not taken (files keep the
    extension last; the original put the suffix after it)."""
    used = set(taken)
    if name not in used:
        return name
    stem, ext = split_name(name, keep_extension)
    n = 1
    while True:
        suffix = f" ({n}){ext}"
        candidate = stem[: 255 - len(suffix)] + suffix
        if candidate not in used:
            return candidate
        n += 1


async def unique_folder_name(tx: Tx, place: Place, name: str) -> str:
    """A free name among the place's live folders; the caller holds the place's lock."""
    taken = await store.folder_names(tx, place, name, like_variants(name, False))
    return free_name(name, taken, keep_extension=False)


async def unique_file_name(tx: Tx, place: Place, name: str) -> str:
    taken = await store.file_names(tx, place, name, like_variants(name, True))
    return free_name(name, taken, keep_extension=True)


# --- quota and objects ------------------------------------------------------------------


async def check_quota(
    ctx: ServiceContext, tx: Tx, workspace_id: UUID, adding: int, *, with_pending: bool
) -> None:
    """Refuse ``adding`` bytes past the workspace's quota (decisions are serialized per
    workspace). ``with_pending`` also counts uploads issued but not yet confirmed."""
    await store.lock_quota(tx, workspace_id)
    usage = await store.usage(tx, workspace_id)
    quota = settings_of(ctx).quota_for(str(workspace_id))
    used = usage.stored + (usage.reserved if with_pending else 0)
    if used + adding > quota:
        raise PayloadTooLarge(
            f"this upload would exceed the workspace's storage quota ({quota} bytes)",
            code="QUOTA_EXCEEDED",
            details={"quotaBytes": quota, "usedBytes": used, "requestedBytes": adding},
        )


def discard_after_commit(ctx: ServiceContext, tx: Tx, keys: Sequence[str]) -> None:
    """Delete objects whose rows this transaction removes, once it commits. Their keys
    are in storage_doomed_blobs, so the cleanup job retries whatever fails here."""
    if not keys or ctx.blobs is None:
        return
    blobs, doomed = ctx.blobs, list(keys)

    async def discard() -> None:
        try:
            await blobs.delete(doomed)
            async with ctx.database.connection() as conn:
                await store.forget_doomed(conn, doomed)
        except Exception as exc:  # noqa: BLE001  # the job retries; the delete is committed
            ctx.log.warning("storage.discard_failed", error=type(exc).__name__, keys=len(doomed))

    tx.on_commit(discard)


# --- keyset cursors ---------------------------------------------------------------------


def decode_keyset(raw: str | None) -> tuple[datetime, UUID] | None:
    """Where a page starts: after the cursor's row, or (None) at the start."""
    return decode_cursor(raw) if raw else None


# --- replies ----------------------------------------------------------------------------


def file_out(ctx: ServiceContext, row: FileRow) -> FileOut:
    extension = posixpath.splitext(row.name)[1].lower()
    return FileOut(
        id=row.id,
        workspace_id=row.workspace_id,
        project_id=row.project_id,
        folder_id=row.folder_id,
        name=row.name,
        original_name=row.original_name,
        file_url=ctx.blobs.public_url(row.file_key) if ctx.blobs is not None else "",
        file_size=row.file_size,
        content_type=row.content_type,
        status=row.status,
        version=row.version,
        uploaded_by=row.uploaded_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        is_deleted=row.status == "DELETED",
        is_image=row.content_type.startswith("image/"),
        is_document=extension in DOCUMENTS,
        extension=extension,
    )


def folder_out(
    row: FolderRow,
    *,
    counts: tuple[int, int, int] = (0, 0, 0),
    children: list[FolderOut] | None = None,
    files: list[FileOut] | None = None,
) -> FolderOut:
    file_count, folder_count, total_size = counts
    return FolderOut(
        id=row.id,
        workspace_id=row.workspace_id,
        project_id=row.project_id,
        parent_id=row.parent_id,
        name=row.name,
        path=row.path,
        color=row.color,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        is_deleted=row.deleted_at is not None,
        file_count=file_count,
        folder_count=folder_count,
        total_size=total_size,
        children=children,
        files=files,
    )


def project_out(row: ProjectView) -> ProjectOut:
    level = drive_level(row.id, row.permission, row.is_public, row.default_permission)
    mine = {VIEW: "VIEWER", EDIT: "EDITOR", MANAGE: "OWNER"}.get(level)
    return ProjectOut(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        description=row.description,
        default_permission=row.default_permission,
        is_public=row.is_public,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        is_deleted=row.deleted_at is not None,
        member_count=row.member_count,
        file_count=row.file_count,
        folder_count=row.folder_count,
        total_size=row.total_size,
        my_permission=mine,
    )
