"""What the storage routes share: paging parameters."""

from __future__ import annotations

from wealist.core.errors import ValidationFailed

__all__ = ("MAX_PAGE_SIZE", "paging")

MAX_PAGE_SIZE = 100


def paging(page: int | None, page_size: int | None, default_size: int = 20) -> tuple[int, int]:
    """``page`` from 1 and ``pageSize`` 1..100 (contract 8.3)."""
    chosen_page = 1 if page is None else page
    size = default_size if page_size is None else page_size
    if chosen_page < 1:
        raise ValidationFailed("page starts at 1")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"pageSize must be 1..{MAX_PAGE_SIZE}")
    return chosen_page, size
