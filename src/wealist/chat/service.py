"""The chat service as data: what ``wealist serve chat`` runs."""

from __future__ import annotations

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="chat",
    port=8001,
    summary="chats, messages, reads, presence, chat WebSocket",
    routes="wealist.chat.api:ROUTES",
    database="chat_db",
    outbox=True,
    realtime=True,
    health_prefixes=("", "/api/chats"),
)
