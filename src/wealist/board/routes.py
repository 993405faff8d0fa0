"""Every route of the board service: HTTP (``api``) and the live board socket (``ws``)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.board import api
from wealist.board.ws import project_socket

__all__ = ("ROUTES",)

ROUTES: list[ControllerRouterHandler] = [*api.ROUTES, project_socket]
