"""Granian target: ``wealist.noti.asgi:create_app`` (a factory)."""

from __future__ import annotations

from litestar import Litestar

from wealist.core.app import build_app
from wealist.noti.service import SERVICE

__all__ = ("create_app",)


def create_app() -> Litestar:
    """Build the noti service from the environment (``WEALIST_NOTI_*``, ``WEALIST_*``)."""
    return build_app(SERVICE)
