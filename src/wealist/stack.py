"""Granian target for ``wealist serve all``: every service mounted in one app."""

from __future__ import annotations

from litestar import Litestar

from wealist.core.app import build_stack_app
from wealist.services import specs

__all__ = ("create_app",)


def create_app() -> Litestar:
    return build_stack_app(specs("all"))
