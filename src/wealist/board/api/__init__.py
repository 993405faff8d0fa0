"""HTTP routes of the board service (thin: parse, call one action, shape the reply).
Every reply is ``{data, requestId}`` (contract 5), errors ``{error, requestId}``;
``/api/projects/{id}/online-users`` answers raw, as the original did."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.board.api import boards, comments, files, projects

__all__ = ("ROUTES",)

ROUTES: list[ControllerRouterHandler] = [
    *projects.ROUTES,
    *boards.ROUTES,
    *comments.ROUTES,
    *files.ROUTES,
]
