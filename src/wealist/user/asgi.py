"""Granian target: ``wealist.user.asgi:create_app`` (a factory)."""

from __future__ import annotations

from litestar import Litestar

from wealist.core.app import build_app
from wealist.user.service import SERVICE

__all__ = ("create_app",)


def create_app() -> Litestar:
    """Build the user service from the environment (``WEALIST_USER_*``, ``WEALIST_*``)."""
    return build_app(SERVICE)
