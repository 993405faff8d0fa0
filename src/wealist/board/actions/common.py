"""What the board actions share: ids, and who may see a workspace or project.

Access policy (as the user service's): whoever is not an active member of the project's
workspace gets 404 for it and everything in it; a workspace member whose project role
does not allow an action gets 403.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.rows import SeatRow
from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import NotFound, ValidationFailed
from wealist.core.security import Principal

__all__ = ("PROJECT_NOT_FOUND", "access_project", "access_workspace", "caller_id", "parse_uuid")

PROJECT_NOT_FOUND = "project not found"


def parse_uuid(raw: str, field: str) -> UUID:
    """An id from a path segment or query; 400 when it is not a UUID."""
    try:
        return msgspec.convert(raw, UUID)
    except msgspec.ValidationError:
        raise ValidationFailed(f"{field} is not a valid UUID") from None


def caller_id(caller: Principal) -> UUID:
    return parse_uuid(caller.user_id, "token subject")


async def access_workspace(ctx: ServiceContext, workspace_id: UUID, me: UUID) -> None:
    """404 unless the caller is an active member of the workspace (cache first)."""
    membership = await ctx.membership.get(str(workspace_id), str(me))
    if not membership.is_member:
        raise NotFound("workspace not found")


async def access_project(ctx: ServiceContext, conn: Conn, project_id: UUID, me: UUID) -> SeatRow:
    """The project with the caller's role: project members, and members of its workspace."""
    seat = await store.project_by_id(conn, project_id, me)
    if seat is None:
        raise NotFound(PROJECT_NOT_FOUND)
    try:
        await access_workspace(ctx, seat.workspace_id, me)
    except NotFound:
        raise NotFound(PROJECT_NOT_FOUND) from None
    return seat
