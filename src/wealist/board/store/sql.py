"""The board service's named queries, loaded on first use (nothing happens at import)."""

from __future__ import annotations

import functools

from wealist.core.db import Queries, load_queries

__all__ = ("Q",)


@functools.cache
def Q() -> Queries:  # noqa: N802  # reads as the queries themselves: Q().get_board
    return load_queries("wealist.board.queries")
