"""What the storage routes share: paging parameters."""

from __future__ import annotations

from wealist.core.errors import ValidationFailed

__all__ = ("MAX_PAGE", "MAX_PAGE_SIZE", "paging")

MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000  # an offset the database can hold (a bigint), and far past any listing


def paging(page: int | None, page_size: int | None, default_size: int = 20) -> tuple[int, int]:
    """``page`` 1..100000 and ``pageSize`` 1..100 (contract 8.3)."""
    chosen_page = 1 if page is None else page
    size = default_size if page_size is None else page_size
    if not 1 <= chosen_page <= MAX_PAGE:
        raise ValidationFailed(f"page must be 1..{MAX_PAGE}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"pageSize must be 1..{MAX_PAGE_SIZE}")
    return chosen_page, size
