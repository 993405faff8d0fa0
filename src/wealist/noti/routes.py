"""Every route of the noti service: the HTTP API and the SSE stream (sibling transports)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.noti import api, sse

__all__ = ("ROUTES",)

ROUTES: list[ControllerRouterHandler] = [*api.ROUTES, *sse.ROUTES]
