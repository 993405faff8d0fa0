"""HTTP routes of the video service (thin: parse, call one action, shape the reply).

Paths and shapes are the original video service's (contract 9): replies are
``{success, data}``, history pages add ``{total, limit, offset}``, leave/end answer
``{success, message}``. Additive: keyset cursors on lists (``X-Next-Cursor``), removing a
participant, TURN credentials, LiveKit webhooks. Workspace events arrive at the kernel's
``/api/internal/events/video`` (see ``actions.workspace_events``).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from wealist.core.deps import Caller, Ctx
from wealist.core.security import bearer_token
from wealist.video.actions import calls, history, livekit_events, rooms, turn
from wealist.video.actions.common import caller_id, parse_uuid
from wealist.video.livekit import receive_webhook, video_settings
from wealist.video.schemas import (
    CallHistoryOut,
    CreateRoom,
    Done,
    JoinOut,
    Ok,
    Page,
    ParticipantOut,
    RoomOut,
    SaveTranscript,
    TranscriptOut,
    TurnCredentials,
    WebhookAck,
)

__all__ = ("ROUTES",)

# Path and query parameters keep the contract's camelCase names.
# ruff: noqa: N803

Limit = Annotated[int, QueryParameter(ge=1, le=history.HISTORY_PAGE_MAX)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]


def _cursor_header(following: str | None) -> dict[str, str]:
    return {"X-Next-Cursor": following} if following else {}


# --- rooms ------------------------------------------------------------------------------


@post("/api/video/rooms", status_code=201)
async def create_room(ctx: Ctx, caller: Caller, data: JSONBody[CreateRoom]) -> Ok[RoomOut]:
    """A room in one of the caller's workspaces (and its LiveKit room)."""
    return Ok(await rooms.do_create_room(ctx, caller_id(caller), data))


@get("/api/video/rooms/workspace/{workspaceId:str}")
async def workspace_rooms(
    ctx: Ctx,
    caller: Caller,
    *,
    workspaceId: FromPath[str],
    active: FromQuery[bool] = False,
    limit: Annotated[int, QueryParameter(ge=1, le=rooms.ROOMS_PAGE_MAX)] = rooms.ROOMS_PAGE_MAX,
    cursor: Cursor = None,
) -> Response[Ok[list[RoomOut]]]:
    """Rooms newest first (``active=true``: calls in progress only). A full page carries
    ``X-Next-Cursor``; pass it back as ``cursor`` for the next one."""
    page, following = await rooms.list_rooms(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        active_only=active,
        limit=limit,
        cursor=cursor,
    )
    return Response(Ok(page), headers=_cursor_header(following))


@get("/api/video/rooms/{roomId:str}")
async def get_room(ctx: Ctx, caller: Caller, roomId: FromPath[str]) -> Ok[RoomOut]:
    return Ok(await rooms.get_room(ctx, caller_id(caller), parse_uuid(roomId, "roomId")))


@post("/api/video/rooms/{roomId:str}/join", status_code=200)
async def join_room(
    ctx: Ctx,
    caller: Caller,
    request: Request[Any, Any, Any],
    roomId: FromPath[str],
    userName: Annotated[str | None, QueryParameter(max_length=100)] = None,
) -> Ok[JoinOut]:
    """A seat and a LiveKit token for this room only. ``userName`` is accepted for old
    clients and ignored: the display name is the caller's workspace profile."""
    token = bearer_token(request.headers.get("authorization")) or ""
    room = parse_uuid(roomId, "roomId")
    return Ok(await calls.do_join(ctx, caller_id(caller), room, token))


@post("/api/video/rooms/{roomId:str}/leave", status_code=200)
async def leave_room(ctx: Ctx, caller: Caller, roomId: FromPath[str]) -> Done:
    await calls.do_leave(ctx, caller_id(caller), parse_uuid(roomId, "roomId"))
    return Done("Left room successfully")


@post("/api/video/rooms/{roomId:str}/end", status_code=200)
async def end_room(ctx: Ctx, caller: Caller, roomId: FromPath[str]) -> Done:
    """End the call for everyone (its creator or a workspace admin)."""
    await calls.do_end(ctx, caller_id(caller), parse_uuid(roomId, "roomId"))
    return Done("Room ended successfully")


@get("/api/video/rooms/{roomId:str}/participants")
async def participants(ctx: Ctx, caller: Caller, roomId: FromPath[str]) -> Ok[list[ParticipantOut]]:
    room = parse_uuid(roomId, "roomId")
    return Ok(await rooms.list_participants(ctx, caller_id(caller), room))


@delete("/api/video/rooms/{roomId:str}/participants/{userId:str}", status_code=200)
async def remove_participant(
    ctx: Ctx, caller: Caller, roomId: FromPath[str], userId: FromPath[str]
) -> Done:
    """Take someone out of the call and out of LiveKit (creator or workspace admin)."""
    await calls.do_remove_participant(
        ctx, caller_id(caller), parse_uuid(roomId, "roomId"), parse_uuid(userId, "userId")
    )
    return Done("Participant removed")


@post("/api/video/rooms/{roomId:str}/transcript", status_code=200)
async def save_transcript(
    ctx: Ctx, caller: Caller, roomId: FromPath[str], data: JSONBody[SaveTranscript]
) -> Ok[TranscriptOut]:
    room = parse_uuid(roomId, "roomId")
    return Ok(await history.do_save_transcript(ctx, caller_id(caller), room, data))


# --- history ----------------------------------------------------------------------------


@get("/api/video/history/workspace/{workspaceId:str}")
async def workspace_history(
    ctx: Ctx,
    caller: Caller,
    *,
    workspaceId: FromPath[str],
    limit: Limit = 20,
    offset: Offset = 0,
    cursor: Cursor = None,
) -> Response[Page[CallHistoryOut]]:
    page, total, following = await history.list_workspace_history(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return Response(Page(page, total, limit, offset), headers=_cursor_header(following))


@get("/api/video/history/me")
async def my_history(
    ctx: Ctx, caller: Caller, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None
) -> Response[Page[CallHistoryOut]]:
    page, total, following = await history.list_my_history(
        ctx, caller_id(caller), limit=limit, offset=offset, cursor=cursor
    )
    return Response(Page(page, total, limit, offset), headers=_cursor_header(following))


@get("/api/video/history/{historyId:str}")
async def get_history(ctx: Ctx, caller: Caller, historyId: FromPath[str]) -> Ok[CallHistoryOut]:
    found = parse_uuid(historyId, "historyId")
    return Ok(await history.get_history(ctx, caller_id(caller), found))


@get("/api/video/history/{historyId:str}/transcript")
async def get_transcript(
    ctx: Ctx, caller: Caller, historyId: FromPath[str]
) -> Ok[TranscriptOut | None]:
    """The call's transcript, or ``data: null`` when none was saved."""
    found = parse_uuid(historyId, "historyId")
    return Ok(await history.get_transcript(ctx, caller_id(caller), found))


# --- TURN, webhooks, events -------------------------------------------------------------


@get("/api/video/turn-credentials")
async def turn_credentials(ctx: Ctx, caller: Caller) -> Ok[TurnCredentials]:
    """coturn REST credentials for the caller and the ICE servers to use them on."""
    return Ok(turn.issue_turn_credentials(video_settings(ctx), caller_id(caller)))


@post("/api/video/webhooks/livekit", status_code=200)
async def livekit_webhook(ctx: Ctx, request: Request[Any, Any, Any]) -> Ok[WebhookAck]:
    """LiveKit's events, signed with our API secret (401 otherwise); acknowledged after
    they are stored, so LiveKit redelivers what was not."""
    event = receive_webhook(
        video_settings(ctx), await request.body(), request.headers.get("authorization")
    )
    return Ok(await livekit_events.do_apply_webhook(ctx, event))


ROUTES: list[ControllerRouterHandler] = [
    create_room,
    workspace_rooms,
    get_room,
    join_room,
    leave_room,
    end_room,
    participants,
    remove_participant,
    save_transcript,
    workspace_history,
    my_history,
    get_history,
    get_transcript,
    turn_credentials,
    livekit_webhook,
]
