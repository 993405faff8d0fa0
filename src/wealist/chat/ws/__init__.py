"""The chat service's sockets: ``/api/chats/ws/{chatId}`` and ``/api/chats/ws/presence``."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.chat.ws.chat import chat_socket
from wealist.chat.ws.presence import presence_socket

__all__ = ("SOCKETS",)

SOCKETS: list[ControllerRouterHandler] = [presence_socket, chat_socket]
