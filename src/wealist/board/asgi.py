"""Granian target: ``wealist.board.asgi:create_app`` (a factory)."""

from __future__ import annotations

from litestar import Litestar

from wealist.board.service import SERVICE
from wealist.core.app import build_app

__all__ = ("create_app",)


def create_app() -> Litestar:
    """Build the board service from the environment (``WEALIST_BOARD_*``, ``WEALIST_*``)."""
    return build_app(SERVICE)
