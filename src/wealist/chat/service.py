"""The chat service as data: what ``wealist serve chat`` runs."""

from __future__ import annotations

from wealist.chat.settings import ChatSettings
from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="chat",
    port=8001,
    summary="chats, messages, reads, presence, chat WebSocket",
    routes="wealist.chat.routes:ROUTES",
    settings=ChatSettings,
    database="chat_db",
    outbox=True,
    realtime=True,
    blobs=True,
    hooks=("wealist.chat.hooks:chat_runtime",),
    event_handlers="wealist.chat.actions.workspace_events:HANDLERS",
    health_prefixes=("", "/api/chats"),
)
