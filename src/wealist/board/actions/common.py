"""What the board actions share: ids, access to workspaces and projects, files.

Access policy (as the user service's): whoever is not an active member of the project's
workspace gets 404 for it and everything in it. Workspace members read a project; its
members write; roles gate the rest (403).
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.rows import FileRow, SeatRow
from wealist.board.schemas.common import FileRef
from wealist.board.settings import BoardSettings
from wealist.core.blobs import BlobStore
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import Forbidden, NotFound, ServiceUnavailable
from wealist.core.ids import parse_uuid
from wealist.core.security import Principal

__all__ = (
    "ADMINS",
    "MEMBERS",
    "PROJECT_NOT_FOUND",
    "access_project",
    "access_workspace",
    "blobs_of",
    "caller_id",
    "file_refs",
    "lock_project",
    "parse_uuid",
    "settings_of",
)

PROJECT_NOT_FOUND = "project not found"
ADMINS = frozenset({"OWNER", "ADMIN"})
MEMBERS = frozenset({"OWNER", "ADMIN", "MEMBER"})
_files = msgspec.json.Decoder(list[FileRow]).decode


def caller_id(caller: Principal) -> UUID:
    return parse_uuid(caller.user_id, "token subject")


def settings_of(ctx: ServiceContext) -> BoardSettings:
    settings = ctx.settings
    assert isinstance(settings, BoardSettings)
    return settings


def blobs_of(ctx: ServiceContext) -> BlobStore:
    if ctx.blobs is None:
        raise ServiceUnavailable(
            "file uploads are not configured: set WEALIST_S3_BUCKET (or run `wealist up`)",
            code="STORAGE_NOT_CONFIGURED",
        )
    return ctx.blobs


def file_refs(ctx: ServiceContext, files: str | list[FileRow]) -> list[FileRef]:
    """Confirmed files as replies show them (``files``: rows, or the views' JSON)."""
    rows = _files(files) if isinstance(files, str) else files
    url = ctx.blobs.public_url if ctx.blobs is not None else (lambda key: key)
    return [
        FileRef(
            id=f.id,
            file_name=f.file_name,
            file_url=url(f.file_key),
            file_size=f.file_size,
            content_type=f.content_type,
            uploaded_by=f.uploaded_by,
            uploaded_at=f.created_at,
        )
        for f in rows
    ]


async def access_workspace(ctx: ServiceContext, workspace_id: UUID, me: UUID) -> None:
    """404 unless the caller is an active member of the workspace (cache first)."""
    membership = await ctx.membership.get(str(workspace_id), str(me))
    if not membership.is_member:
        raise NotFound("workspace not found")


async def _seat(
    ctx: ServiceContext, seat: SeatRow | None, me: UUID, roles: Collection[str] | None, why: str
) -> SeatRow:
    if seat is None:
        raise NotFound(PROJECT_NOT_FOUND)
    try:
        await access_workspace(ctx, seat.workspace_id, me)
    except NotFound:
        raise NotFound(PROJECT_NOT_FOUND) from None
    if roles is not None and seat.role not in roles:
        raise Forbidden(why)
    return seat


async def access_project(
    ctx: ServiceContext,
    conn: Conn,
    project_id: UUID,
    me: UUID,
    *,
    roles: Collection[str] | None = None,
    why: str = "only project members can do this",
) -> SeatRow:
    """The project with the caller's role: every member of its workspace may read it;
    ``roles`` (project roles) narrows it to those."""
    seat = await store.projects.project_by_id(conn, project_id, me)
    return await _seat(ctx, seat, me, roles, why)


async def lock_project(
    ctx: ServiceContext,
    tx: Conn,
    project_id: UUID,
    me: UUID,
    *,
    roles: Collection[str] | None = MEMBERS,
    why: str = "only project members can change it",
) -> SeatRow:
    """The project, row-locked for the rest of the transaction: a project's writes apply
    one at a time (ranks, event sequence numbers), and always lock it first (no deadlock)."""
    seat = await store.projects.lock_project(tx, project_id, me)
    return await _seat(ctx, seat, me, roles, why)
