"""HTTP routes of the chat service (thin: parse, call one action, shape the reply).

Replies keep the original's envelopes (contract 2.2): lists and details as
``{success: true, message: ...}``, create and send as the raw object, the unread count as
``{success: true, data: {unreadCount}}``, presign as ``{data, requestId}``; errors as
``{success: false, error: {code, message}, requestId}``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.types import ControllerRouterHandler

from wealist.chat.actions import chats, files, messages, presence
from wealist.chat.actions.common import caller_id, parse_uuid
from wealist.chat.schemas import (
    AddParticipants,
    ChatOut,
    CreateChat,
    EditMessage,
    MarkRead,
    MessageOut,
    Ok,
    PresenceOut,
    PresignFile,
    PresignOut,
    ReactionIn,
    SendMessage,
    UnreadCount,
    UnreadOut,
)
from wealist.core.deps import Caller, Ctx
from wealist.core.envelopes import Data, reply
from wealist.core.errors import ValidationFailed

__all__ = ("ROUTES",)

# Path and query parameters keep the contract's camelCase names.
# ruff: noqa: N803

Limit = Annotated[int, Parameter(ge=1, le=messages.HISTORY_MAX)]
Cursor = Annotated[str | None, Parameter(max_length=200)]


def _paged(found: list[ChatOut], following: str | None) -> Response[Ok[list[ChatOut]]]:
    headers = {"X-Next-Cursor": following} if following else {}
    return Response(Ok(found), headers=headers)


# --- chats ------------------------------------------------------------------------------


@post("/api/chats", status_code=201)
async def create_chat(ctx: Ctx, caller: Caller, data: JSONBody[CreateChat]) -> Response[ChatOut]:
    """A chat in the caller's workspace (201); a DM the pair already has comes back (200)."""
    chat, created = await chats.do_create_chat(ctx, caller_id(caller), data)
    return Response(chat, status_code=201 if created else 200)


@get("/api/chats/my")
async def my_chats(
    ctx: Ctx,
    caller: Caller,
    limit: Annotated[int, Parameter(ge=1, le=chats.CHATS_PAGE_MAX)] = chats.CHATS_PAGE_MAX,
    cursor: Cursor = None,
) -> Response[Ok[list[ChatOut]]]:
    """The caller's chats, newest activity first, with ``unreadCount``; a full page
    carries ``X-Next-Cursor``."""
    found, following = await chats.list_chats(
        ctx, caller_id(caller), workspace_id=None, limit=limit, cursor=cursor
    )
    return _paged(found, following)


@get("/api/chats/workspace/{workspaceId:str}")
async def workspace_chats(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    limit: Annotated[int, Parameter(ge=1, le=chats.CHATS_PAGE_MAX)] = chats.CHATS_PAGE_MAX,
    cursor: Cursor = None,
) -> Response[Ok[list[ChatOut]]]:
    """The caller's chats in one of their workspaces (never anyone else's)."""
    found, following = await chats.list_chats(
        ctx,
        caller_id(caller),
        workspace_id=parse_uuid(workspaceId, "workspaceId"),
        limit=limit,
        cursor=cursor,
    )
    return _paged(found, following)


@get("/api/chats/{chatId:str}")
async def get_chat(ctx: Ctx, caller: Caller, chatId: FromPath[str]) -> Ok[ChatOut]:
    return Ok(await chats.get_chat(ctx, caller_id(caller), parse_uuid(chatId, "chatId")))


@delete("/api/chats/{chatId:str}")
async def delete_chat(ctx: Ctx, caller: Caller, chatId: FromPath[str]) -> None:
    await chats.do_delete_chat(ctx, caller_id(caller), parse_uuid(chatId, "chatId"))


@post("/api/chats/{chatId:str}/participants", status_code=200)
async def add_participants(
    ctx: Ctx, caller: Caller, chatId: FromPath[str], data: JSONBody[AddParticipants]
) -> Ok[ChatOut]:
    chat_id = parse_uuid(chatId, "chatId")
    return Ok(await chats.do_add_participants(ctx, caller_id(caller), chat_id, data.user_ids))


@delete("/api/chats/{chatId:str}/participants/{userId:str}")
async def remove_participant(
    ctx: Ctx, caller: Caller, chatId: FromPath[str], userId: FromPath[str]
) -> None:
    await chats.do_remove_participant(
        ctx, caller_id(caller), parse_uuid(chatId, "chatId"), parse_uuid(userId, "userId")
    )


# --- messages ---------------------------------------------------------------------------


@get("/api/chats/messages/search")
async def search_messages(
    ctx: Ctx,
    caller: Caller,
    *,
    q: Annotated[str, Parameter(min_length=1, max_length=100)],
    workspaceId: FromQuery[str | None] = None,
    chatId: FromQuery[str | None] = None,
    limit: Annotated[int, Parameter(ge=1, le=messages.SEARCH_MAX)] = 20,
    cursor: Cursor = None,
) -> Response[Ok[list[MessageOut]]]:
    """Messages containing ``q`` (any script, substrings) in the caller's chats."""
    found, following = await messages.search(
        ctx,
        caller_id(caller),
        text=q,
        workspace_id=parse_uuid(workspaceId, "workspaceId") if workspaceId else None,
        chat_id=parse_uuid(chatId, "chatId") if chatId else None,
        limit=limit,
        cursor=cursor,
    )
    headers = {"X-Next-Cursor": following} if following else {}
    return Response(Ok(found), headers=headers)


@post("/api/chats/messages/read", status_code=200)
async def mark_read(ctx: Ctx, caller: Caller, data: JSONBody[MarkRead]) -> Ok[str]:
    await messages.do_mark_read(ctx, caller_id(caller), data.message_ids)
    return Ok("Messages marked as read")


@get("/api/chats/messages/{chatId:str}")
async def history(
    ctx: Ctx,
    caller: Caller,
    *,
    chatId: FromPath[str],
    limit: Limit = 50,
    before: Annotated[str | None, Parameter(max_length=40)] = None,
    after: Annotated[int | None, Parameter(ge=0)] = None,
    offset: FromQuery[str | None] = None,  # sent by the original frontend; ignored
) -> Ok[list[MessageOut]]:
    """Oldest first: the newest ``limit``, or those before a message id or seq, or after
    a seq."""
    found = await messages.history(
        ctx,
        caller_id(caller),
        parse_uuid(chatId, "chatId"),
        limit=limit,
        before=before,
        after=after,
    )
    return Ok(found)


@post("/api/chats/messages/{chatId:str}", status_code=201)
async def send_message(
    ctx: Ctx, caller: Caller, chatId: FromPath[str], data: JSONBody[SendMessage]
) -> MessageOut:
    """Stored with the chat's next ``seq``; a retry with the same ``clientMessageId``
    returns the original."""
    found, _ = await messages.do_send(ctx, caller_id(caller), parse_uuid(chatId, "chatId"), data)
    return found


@put("/api/chats/messages/{chatId:str}")
async def edit_message(
    ctx: Ctx, caller: Caller, chatId: FromPath[str], data: JSONBody[EditMessage]
) -> Ok[MessageOut]:
    """Change a message's text (its author only); ``chatId`` here is the message's id."""
    message_id = parse_uuid(chatId, "messageId")
    return Ok(await messages.do_edit_message(ctx, caller_id(caller), message_id, data.content))


@delete("/api/chats/messages/{chatId:str}")
async def delete_message(ctx: Ctx, caller: Caller, chatId: FromPath[str]) -> None:
    """Soft-delete a message (its author only); ``chatId`` here is the message's id."""
    await messages.do_delete_message(ctx, caller_id(caller), parse_uuid(chatId, "messageId"))


@post("/api/chats/messages/{chatId:str}/reactions", status_code=200)
async def add_reaction(
    ctx: Ctx, caller: Caller, chatId: FromPath[str], data: JSONBody[ReactionIn]
) -> Ok[str]:
    """React to a message (``chatId`` here is the message's id); once per emoji."""
    message_id = parse_uuid(chatId, "messageId")
    await messages.do_add_reaction(ctx, caller_id(caller), message_id, data.emoji)
    return Ok("Reaction added")


@delete("/api/chats/messages/{chatId:str}/reactions/{emoji:str}")
async def remove_reaction(
    ctx: Ctx, caller: Caller, chatId: FromPath[str], emoji: FromPath[str]
) -> None:
    message_id = parse_uuid(chatId, "messageId")
    await messages.do_remove_reaction(ctx, caller_id(caller), message_id, emoji)


@get("/api/chats/messages/{chatId:str}/unread")
async def unread(ctx: Ctx, caller: Caller, chatId: FromPath[str]) -> UnreadOut:
    count = await messages.unread_count(ctx, caller_id(caller), parse_uuid(chatId, "chatId"))
    return UnreadOut(UnreadCount(count))


@put("/api/chats/messages/{chatId:str}/last-read")
async def last_read(ctx: Ctx, caller: Caller, chatId: FromPath[str]) -> Ok[str]:
    await messages.do_read_all(ctx, caller_id(caller), parse_uuid(chatId, "chatId"))
    return Ok("Last read updated")


# --- presence and files -----------------------------------------------------------------


@get("/api/chats/presence/online")
async def online(
    ctx: Ctx, caller: Caller, workspaceId: FromQuery[str | None] = None
) -> Ok[list[PresenceOut]]:
    """ONLINE users of a workspace the caller belongs to (``workspaceId`` is required)."""
    if not workspaceId:
        raise ValidationFailed("workspaceId is required")
    workspace = parse_uuid(workspaceId, "workspaceId")
    return Ok(await presence.online_users(ctx, caller_id(caller), workspace))


@get("/api/chats/presence/status/{userId:str}")
async def status(
    ctx: Ctx, caller: Caller, userId: FromPath[str], workspaceId: FromQuery[str | None] = None
) -> Ok[PresenceOut]:
    """A user's presence in a workspace the caller shares with them (else 404)."""
    workspace = parse_uuid(workspaceId, "workspaceId") if workspaceId else None
    user = parse_uuid(userId, "userId")
    return Ok(await presence.status_of_user(ctx, caller_id(caller), user, workspace))


@post("/api/chats/files/presigned-url", status_code=200)
async def presign(ctx: Ctx, caller: Caller, data: JSONBody[PresignFile]) -> Data[PresignOut]:
    return reply(await files.do_presign_file(ctx, caller_id(caller), data))


ROUTES: list[ControllerRouterHandler] = [
    create_chat,
    my_chats,
    workspace_chats,
    get_chat,
    delete_chat,
    add_participants,
    remove_participant,
    search_messages,
    mark_read,
    history,
    send_message,
    edit_message,
    delete_message,
    add_reaction,
    remove_reaction,
    unread,
    last_read,
    online,
    status,
    presign,
]
