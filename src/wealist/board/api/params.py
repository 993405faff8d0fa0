"""Request pieces several routes read: ids, ``If-Match``, the ``customFields`` filter."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import HeaderParameter, QueryParameter

from wealist.core.errors import ValidationFailed

__all__ = ("Cursor", "IfMatch", "Limit", "custom_fields", "if_match")

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match")]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]

_FILTER = msgspec.json.Decoder(dict[str, str])


def custom_fields(raw: str | None) -> dict[str, str]:
    """The ``customFields`` filter: a JSON object of field type -> option value."""
    if not raw:
        return {}
    try:
        return _FILTER.decode(raw)
    except msgspec.DecodeError:
        raise ValidationFailed("customFields must be a JSON object of strings") from None


def if_match(raw: str | None) -> int | None:
    """The board version a write expects (``If-Match: 3``, ``"3"`` or ``W/"3"``)."""
    if raw is None or raw.strip() in {"", "*"}:
        return None
    digits = raw.strip().removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise ValidationFailed("If-Match must be a board version")
    return int(digits)
