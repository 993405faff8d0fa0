"""HTTP routes of the storage service (thin: parse, call one action, shape the reply).

Paths and shapes are the original storage service's (contract 8), plus the routes its
frontend calls that it lacked (8.5), versions and public-link downloads.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from wealist.storage.api import files, folders, projects, shares

__all__ = ("ROUTES",)

ROUTES: list[ControllerRouterHandler] = [
    *projects.ROUTES,
    *folders.ROUTES,
    *files.ROUTES,
    *shares.ROUTES,
]
