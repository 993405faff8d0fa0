"""Rows the noti service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

__all__ = (
    "DigestItemRow",
    "NotificationRow",
    "PreferenceRow",
    "PurgedRow",
    "ReadRow",
    "RemovedRow",
    "ReplayRow",
    "StreamHeadRow",
)


class NotificationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    target_user_id: UUID
    seq: int | None
    event_id: UUID | None
    type: str
    actor_id: UUID
    workspace_id: UUID
    resource_type: str
    resource_id: UUID
    resource_name: str | None
    metadata: dict[str, Any] | None
    is_read: bool
    read_at: datetime | None
    created_at: datetime
    in_app: bool
    email_state: str


class ReadRow(msgspec.Struct, frozen=True, kw_only=True):
    """A notification after ``mark_read``; ``changed``: it was unread before."""

    id: UUID
    target_user_id: UUID
    seq: int | None
    event_id: UUID | None
    type: str
    actor_id: UUID
    workspace_id: UUID
    resource_type: str
    resource_id: UUID
    resource_name: str | None
    metadata: dict[str, Any] | None
    is_read: bool
    read_at: datetime | None
    created_at: datetime
    changed: bool


class RemovedRow(msgspec.Struct, frozen=True):
    workspace_id: UUID
    was_unread: bool


class StreamHeadRow(msgspec.Struct, frozen=True):
    last_seq: int
    purged_seq: int


class UserHeadRow(msgspec.Struct, frozen=True):
    user_id: UUID
    last_seq: int


class ReplayRow(msgspec.Struct, frozen=True, kw_only=True):
    """The stream's head, with one replayed notification (all None when none is due)."""

    head: int
    purged: int
    id: UUID | None
    target_user_id: UUID | None
    seq: int | None
    type: str | None
    actor_id: UUID | None
    workspace_id: UUID | None
    resource_type: str | None
    resource_id: UUID | None
    resource_name: str | None
    metadata: dict[str, Any] | None
    is_read: bool | None
    read_at: datetime | None
    created_at: datetime | None


class PreferenceRow(msgspec.Struct, frozen=True):
    workspace_id: UUID | None
    type: str
    in_app: bool | None
    email: bool | None


class DigestItemRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    type: str
    workspace_id: UUID
    resource_type: str
    resource_name: str | None
    is_read: bool
    created_at: datetime


class PurgedRow(msgspec.Struct, frozen=True):
    user_id: UUID
    max_seq: int
    deleted: int
