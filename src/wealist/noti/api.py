"""HTTP routes of the noti service (thin: parse, call one action, shape the reply).

Paths and shapes are the original noti service's (contract 7.1); replies are raw DTOs and
errors ``{success:false, error:{code,message}}``. Additive: keyset ``cursor`` on the
list, ``eventId`` idempotency on internal creates, and preferences. Outbox events
arrive at the kernel's ``POST /api/internal/events/noti`` (handlers in ``actions.events``).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from wealist.core.deps import Caller, Ctx, Internal
from wealist.core.errors import ValidationFailed
from wealist.noti.actions import notifications, preferences
from wealist.noti.actions.common import caller_id, notification_out, parse_uuid
from wealist.noti.schemas import (
    BulkCreate,
    BulkCreated,
    MarkedAsRead,
    NotificationEvent,
    NotificationList,
    NotificationOut,
    PreferencesOut,
    PreferencesUpdate,
    UnreadCount,
)

__all__ = ("ROUTES",)

# Path and query parameters keep the contract's camelCase names.
# ruff: noqa: N803

WorkspaceHeader = Annotated[
    str | None,
    HeaderParameter(name="X-Workspace-Id", description="the workspace the list is of"),
]


def _workspace(raw: str | None) -> UUID:
    if not raw:
        raise ValidationFailed("X-Workspace-Id header is required")
    return parse_uuid(raw, "X-Workspace-Id")


# --- the caller's notifications -----------------------------------------------------------


@get("/api/notifications")
async def list_notifications(
    ctx: Ctx,
    caller: Caller,
    *,
    workspace: WorkspaceHeader,
    page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    unreadOnly: FromQuery[bool] = False,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> NotificationList:
    """The caller's notifications of one workspace, newest first."""
    return await notifications.list_notifications(
        ctx,
        caller_id(caller),
        _workspace(workspace),
        page=page,
        limit=limit,
        unread_only=unreadOnly,
        cursor=cursor,
    )


@get("/api/notifications/unread-count")
async def unread_count(ctx: Ctx, caller: Caller, workspace: WorkspaceHeader) -> UnreadCount:
    workspace_id = _workspace(workspace)
    count = await notifications.count_unread(ctx, caller_id(caller), workspace_id)
    return UnreadCount(count, workspace_id)


@patch("/api/notifications/{notificationId:str}/read")
async def mark_read(ctx: Ctx, caller: Caller, notificationId: FromPath[str]) -> NotificationOut:
    notification = parse_uuid(notificationId, "notificationId")
    return await notifications.do_mark_read(ctx, caller_id(caller), notification)


@post("/api/notifications/read-all", status_code=200)
async def read_all(ctx: Ctx, caller: Caller, workspace: WorkspaceHeader) -> MarkedAsRead:
    return await notifications.do_mark_all_read(ctx, caller_id(caller), _workspace(workspace))


@delete("/api/notifications/{notificationId:str}", status_code=204)
async def delete_notification(ctx: Ctx, caller: Caller, notificationId: FromPath[str]) -> None:
    notification = parse_uuid(notificationId, "notificationId")
    await notifications.do_delete(ctx, caller_id(caller), notification)


# --- preferences ------------------------------------------------------------------------


@get("/api/notifications/preferences")
async def get_preferences(
    ctx: Ctx,
    caller: Caller,
    workspaceId: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> PreferencesOut:
    """Every type's in-app and email choice, for every workspace or for one."""
    workspace = parse_uuid(workspaceId, "workspaceId") if workspaceId else None
    return await preferences.get_preferences(ctx, caller, workspace)


@put("/api/notifications/preferences")
async def put_preferences(
    ctx: Ctx, caller: Caller, data: JSONBody[PreferencesUpdate]
) -> PreferencesOut:
    return await preferences.do_update_preferences(ctx, caller, data)


# --- internal (internal key; blocked at the gateway) ------------------------------------


@post("/api/internal/notifications", status_code=201)
async def create_notification(
    ctx: Ctx, internal: Internal, data: JSONBody[NotificationEvent]
) -> Response[NotificationOut]:
    """Create one notification; a repeated ``eventId`` answers with the first one's."""
    created = await notifications.do_create(ctx, [(data, data.event_id)])
    headers = {} if created.rows else {"Idempotent-Replayed": "true"}
    return Response(notifications.single_reply(created), status_code=201, headers=headers)


@post("/api/internal/notifications/bulk", status_code=201)
async def create_bulk(ctx: Ctx, internal: Internal, data: JSONBody[BulkCreate]) -> BulkCreated:
    """Create 1 to 100 notifications at once; repeated ``eventId``s are skipped."""
    created = await notifications.do_create(ctx, [(n, n.event_id) for n in data.notifications])
    shaped = [notification_out(r) for r in created.rows]
    return BulkCreated(len(shaped), shaped, created.duplicates)


ROUTES: list[ControllerRouterHandler] = [
    list_notifications,
    unread_count,
    mark_read,
    read_all,
    delete_notification,
    get_preferences,
    put_preferences,
    create_notification,
    create_bulk,
]
