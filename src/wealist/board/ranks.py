"""Kanban order: rank keys that sort cards inside a column, and renumbering them.

A rank is a base-62 fraction in (0, 1) written without the leading "0." and without
trailing zeros ("V" is 0.5). Under byte order (PostgreSQL ``COLLATE "C"``) string order is
numeric order, so ``ORDER BY rank`` is the column order. A card moved between two
neighbours gets a key strictly between theirs and nobody else is rewritten; keys only
grow when one spot is used over and over, and a column whose keys reach ``MAX_LENGTH``
is renumbered with :func:`spread` (short, evenly spaced keys) in the same transaction.
"""

from __future__ import annotations

import math

__all__ = ("DIGITS", "MAX_LENGTH", "between", "spread")

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
MAX_LENGTH = 24  # a column is renumbered before any key gets longer than this
_INDEX = {d: i for i, d in enumerate(DIGITS)}


def _check(key: str) -> None:
    if not key or key.endswith("0") or any(c not in _INDEX for c in key):
        raise ValueError(f"not a rank key: {key!r}")


def _midpoint(a: str, b: str | None) -> str:
    """A key strictly between fractions ``a`` ("" = 0) and ``b`` (None = 1)."""
    if b is not None:
        n = 0  # length of the common prefix, reading a as padded with zeros
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    low = _INDEX[a[0]] if a else 0
    high = _INDEX[b[0]] if b is not None else BASE
    if high - low > 1:
        return DIGITS[(low + high) // 2]
    if b is not None and len(b) > 1:  # the first digit of b alone sits between them
        return b[0]
    return DIGITS[low] + _midpoint(a[1:], None)


def between(before: str | None, after: str | None) -> str:
    """A key that sorts after ``before`` and before ``after`` (None: the column's end)."""
    for key in (before, after):
        if key is not None:
            _check(key)
    if before is not None and after is not None and before >= after:
        raise ValueError(f"{before!r} does not sort before {after!r}")
    return _midpoint(before or "", after)


def spread(count: int) -> list[str]:
    """``count`` increasing keys, evenly spaced over (0, 1), as short as possible."""
    if count <= 0:
        return []
    width = max(1, math.ceil(math.log(count + 1, BASE)) + 1)
    scale = BASE**width
    keys = []
    for i in range(1, count + 1):
        value = i * scale // (count + 1)
        digits = []
        for _ in range(width):
            value, digit = divmod(value, BASE)
            digits.append(DIGITS[digit])
        keys.append("".join(reversed(digits)).rstrip("0"))
    return keys
