"""What several resources' bodies share: text checks, dates, file references."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

__all__ = (
    "MAX_SAFE_INT",
    "FileRef",
    "IdList",
    "MessageOut",
    "check_dates",
    "check_text",
    "clean_ids",
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ATTACHMENTS_MAX = 20  # files attached in one request
# Ids in one list as sent, duplicates included: a ceiling checked while decoding; each
# list's own limit (attachments 20, participants 50, ...) applies after deduplication.
ID_LIST_CEILING = 200
IdList = Annotated[list[UUID], msgspec.Meta(max_length=ID_LIST_CEILING)]
MAX_SAFE_INT = 2**53 - 1  # the largest integer the (JavaScript) frontend represents exactly


def check_text(value: str, field: str, low: int, high: int, *, single_line: bool) -> str:
    """``value`` trimmed (single-line fields), within ``low..high`` characters, no NUL."""
    if single_line:
        value = value.strip()
        if _CONTROL.search(value):
            raise ValueError(f"{field} contains control characters")
    elif "\x00" in value:
        raise ValueError(f"{field} contains a NUL character")
    if not low <= len(value) <= high:
        raise ValueError(f"{field} must be {low} to {high} characters")
    return value


def check_dates(start: datetime | None, due: datetime | None) -> None:
    if start is not None and due is not None and start > due:
        raise ValueError("startDate must not be after dueDate")


def clean_ids(ids: list[UUID], field: str, limit: int = ATTACHMENTS_MAX) -> list[UUID]:
    """Deduplicated, in order, without nil UUIDs (the original frontend sends them)."""
    kept = [i for i in dict.fromkeys(ids) if i.int != 0]
    if len(kept) > limit:
        raise ValueError(f"at most {limit} {field}")
    return kept


class FileRef(msgspec.Struct, rename="camel", kw_only=True):
    """A confirmed attachment inside a project, board or comment reply."""

    id: UUID
    file_name: str
    file_url: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    uploaded_at: datetime


class MessageOut(msgspec.Struct, frozen=True):
    message: str
