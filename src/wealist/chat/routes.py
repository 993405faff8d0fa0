"""Every route of the chat service: the HTTP routes and the two sockets."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.chat.api import ROUTES as HTTP_ROUTES
from wealist.chat.ws import SOCKETS

__all__ = ("ROUTES",)

ROUTES: list[ControllerRouterHandler] = [*HTTP_ROUTES, *SOCKETS]
