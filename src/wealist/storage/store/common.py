"""The named queries, read on first use (nothing happens at import time)."""

from __future__ import annotations

import functools

from wealist.core.db import Queries, load_queries

__all__ = ("queries",)


@functools.cache
def queries() -> Queries:
    return load_queries("wealist.storage.queries")
