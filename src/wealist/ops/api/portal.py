"""Sign-in, the caller's portal user, portal user management and the audit log."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from wealist.core.deps import Ctx
from wealist.ops.actions import audit, portal
from wealist.ops.actions.common import parse_uuid, user_out
from wealist.ops.api.deps import ADMIN, ANY_ROLE, Me, Who
from wealist.ops.schemas import (
    AuditLogOut,
    CallbackOut,
    Done,
    InviteUser,
    Ok,
    Page,
    PortalUserOut,
    UpdateRole,
)

__all__ = ("ROUTES",)

Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Filter = Annotated[str | None, QueryParameter(max_length=100)]


def _cursor_header(following: str | None) -> dict[str, str]:
    return {"X-Next-Cursor": following} if following else {}


@get("/auth/callback")
async def callback(ctx: Ctx, who: Who) -> Ok[CallbackOut]:
    """After the wealist sign-in: the caller's portal user and whether this is their first
    visit. Only invited users (and the configured admins) have one."""
    return Ok(await portal.do_sign_in(ctx, who))


@post("/auth/logout", status_code=200)
async def logout(ctx: Ctx, who: Who) -> Done:
    await portal.do_logout(ctx, who)
    return Done("Logged out successfully")


@get("/users/me", opt=ANY_ROLE)
async def me(me: Me) -> Ok[PortalUserOut]:
    return Ok(user_out(me))


@get("/admin/users", opt=ADMIN)
async def list_users(
    ctx: Ctx,
    me: Me,
    limit: Annotated[int, QueryParameter(ge=1, le=portal.USERS_PAGE_MAX)] = portal.USERS_PAGE_MAX,
    cursor: Cursor = None,
) -> Response[Ok[list[PortalUserOut]]]:
    """Portal users, newest first; a full page carries ``X-Next-Cursor``."""
    users, following = await portal.list_users(ctx, limit=limit, cursor=cursor)
    return Response(Ok(users), headers=_cursor_header(following))


@get("/admin/users/{user_id:str}", opt=ADMIN)
async def get_user(ctx: Ctx, me: Me, user_id: FromPath[str]) -> Ok[PortalUserOut]:
    return Ok(await portal.get_user(ctx, parse_uuid(user_id, "id")))


@post("/admin/users/invite", opt=ADMIN, status_code=201)
async def invite(ctx: Ctx, me: Me, who: Who, data: JSONBody[InviteUser]) -> Ok[PortalUserOut]:
    return Ok(await portal.do_invite(ctx, me, who, data))


@put("/admin/users/{user_id:str}/role", opt=ADMIN)
async def update_role(
    ctx: Ctx, me: Me, who: Who, user_id: FromPath[str], data: JSONBody[UpdateRole]
) -> Done:
    await portal.do_update_role(ctx, me, who, parse_uuid(user_id, "id"), data.role)
    return Done("Role updated successfully")


@post("/admin/users/{user_id:str}/deactivate", opt=ADMIN, status_code=200)
async def deactivate(ctx: Ctx, me: Me, who: Who, user_id: FromPath[str]) -> Done:
    await portal.do_deactivate(ctx, me, who, parse_uuid(user_id, "id"))
    return Done("User deactivated successfully")


@post("/admin/users/{user_id:str}/reactivate", opt=ADMIN, status_code=200)
async def reactivate(ctx: Ctx, me: Me, who: Who, user_id: FromPath[str]) -> Done:
    await portal.do_reactivate(ctx, me, who, parse_uuid(user_id, "id"))
    return Done("User reactivated successfully")


@get("/admin/audit-logs", opt=ADMIN)
async def audit_logs(  # the contract's query parameters, each optional
    ctx: Ctx,
    me: Me,
    *,
    page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    limit: Annotated[int, QueryParameter(ge=1, le=audit.PAGE_MAX)] = 20,
    user_id: Filter = None,
    resource_type: Filter = None,
    action: Filter = None,
    start_time: Filter = None,
    end_time: Filter = None,
    cursor: Cursor = None,
) -> Response[Page[AuditLogOut]]:
    """The audit log newest first; ``page``/``limit`` as the portal pages, or ``cursor``
    (from ``X-Next-Cursor``) to continue after the previous page."""
    query = audit.AuditQuery(
        user_id=user_id,
        resource_type=resource_type,
        action=action,
        start_time=start_time,
        end_time=end_time,
    )
    entries, total, following = await audit.list_entries(
        ctx, query, page=page, limit=limit, cursor=cursor
    )
    return Response(Page(entries, page, limit, total), headers=_cursor_header(following))


@get("/admin/audit-logs/{entry_id:str}", opt=ADMIN)
async def audit_log(ctx: Ctx, me: Me, entry_id: FromPath[str]) -> Ok[AuditLogOut]:
    return Ok(await audit.get_entry(ctx, parse_uuid(entry_id, "id")))


ROUTES = [
    callback,
    logout,
    me,
    list_users,
    get_user,
    invite,
    update_role,
    deactivate,
    reactivate,
    audit_logs,
    audit_log,
]
