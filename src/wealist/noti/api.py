"""HTTP routes of the noti service (thin: parse, call one action, shape the reply)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

__all__ = ("ROUTES",)

ROUTES: list[ControllerRouterHandler] = []
