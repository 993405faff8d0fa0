"""What the chat does when the user service says a workspace changed (outbox events,
applied once per event id by the kernel's ``/api/internal/events/chat``)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from wealist.chat import store
from wealist.chat.actions.events import record
from wealist.chat.frames import chat_deleted_frame, member_frame
from wealist.contracts.events import (
    WORKSPACE_DELETED,
    WORKSPACE_MEMBER_REMOVED,
    EventEnvelope,
    WorkspaceDeleted,
    WorkspaceMemberRemoved,
)
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.events import EventHandler

__all__ = ("HANDLERS",)


async def workspace_deleted(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    """Every chat of the workspace goes; open sockets hear ``CHAT_DELETED``."""
    body = msgspec.json.decode(event.payload, type=WorkspaceDeleted)
    for chat_id in await store.delete_workspace_chats(tx, UUID(body.workspace_id)):
        await record(ctx, tx, chat_id, chat_deleted_frame(chat_id))


async def member_removed(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    """The user leaves every chat of the workspace (DMs too): the other participants hear
    ``USER_LEFT``, the user's chat sockets close (4403), and no message of those chats
    reaches them any more (not even as ``NEW_MESSAGE_NOTIFICATION``)."""
    body = msgspec.json.decode(event.payload, type=WorkspaceMemberRemoved)
    user = UUID(body.user_id)
    for chat_id in await store.leave_workspace_chats(tx, UUID(body.workspace_id), user):
        await record(ctx, tx, chat_id, member_frame(False, chat_id, user))


HANDLERS: dict[str, EventHandler] = {
    WORKSPACE_DELETED: workspace_deleted,
    WORKSPACE_MEMBER_REMOVED: member_removed,
}
