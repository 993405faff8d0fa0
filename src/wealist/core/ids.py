"""Ids and keyset cursors as every service reads them from paths, queries and headers."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

import msgspec

from wealist.core.errors import ValidationFailed

__all__ = ("decode_cursor", "encode_cursor", "parse_uuid")


def parse_uuid(raw: str, field: str) -> UUID:
    """An id from a path segment, query value or header; 400 naming ``field`` otherwise.
    (msgspec accepts the canonical hyphenated form and 32 bare hex digits.)"""
    try:
        return msgspec.convert(raw.strip(), UUID)
    except msgspec.ValidationError:
        raise ValidationFailed(f"{field} is not a valid UUID") from None


def encode_cursor(at: datetime, row_id: UUID) -> str:
    """An opaque keyset cursor: the last row's (timestamp, id), URL-safe."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The (timestamp, id) of a cursor :func:`encode_cursor` made; 400 for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = text.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed, UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor is not one this service issued") from None
