"""The SSE transport: ``GET /api/notifications/stream`` (contract 7.2, with replay).

Browsers open it with ``EventSource`` and ``?token=`` (they cannot send headers); the
``Authorization`` header works too. A refused token answers 401 in the noti envelope
before any stream starts, which stops the browser's retry loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from wealist.core.deps import Caller, Ctx
from wealist.core.realtime.sse import SSE_HEADERS, last_event_id
from wealist.noti.actions.common import caller_id, parse_uuid
from wealist.noti.actions.stream import StreamRequest, notification_stream, parse_resume

__all__ = ("ROUTES", "stream")

# ruff: noqa: N803

EVENT_STREAM = "text/event-stream"


@get(
    "/api/notifications/stream",
    opt={"token_in_query": True},
    media_type=EVENT_STREAM,  # the OpenAPI document declares what the stream is
)
async def stream(
    ctx: Ctx,
    caller: Caller,
    request: Request[Any, Any, Any],
    workspaceId: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Stream:
    """``connected``, what the client missed after ``Last-Event-ID`` (header, or
    ``lastEventId`` in the query), then live ``notification`` events and ``:ping``s;
    ``?workspaceId=`` keeps one workspace's events only."""
    resume, invalid = parse_resume(last_event_id(request.headers, request.query_params))
    opened = StreamRequest(
        user=caller_id(caller),
        workspace=parse_uuid(workspaceId, "workspaceId") if workspaceId else None,
        resume=resume,
        resume_invalid=invalid,
        expires_at=float(caller.expires_at) if caller.expires_at else None,
    )
    return Stream(notification_stream(ctx, opened), media_type=EVENT_STREAM, headers=SSE_HEADERS)


ROUTES: list[ControllerRouterHandler] = [stream]
