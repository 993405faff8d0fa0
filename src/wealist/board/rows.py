"""Rows the board service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = ("BoardRow", "OptionRow", "ProjectMemberRow", "ProjectRow", "SeatRow")


class ProjectRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    workspace_id: UUID
    owner_id: UUID
    name: str
    description: str
    is_public: bool
    start_date: datetime | None
    due_date: datetime | None
    created_at: datetime
    updated_at: datetime


class SeatRow(ProjectRow, frozen=True, kw_only=True):
    """A project with the caller's role in it (None: not a project member)."""

    role: str | None


class ProjectMemberRow(msgspec.Struct, frozen=True):
    id: UUID
    project_id: UUID
    user_id: UUID
    role_name: str
    joined_at: datetime


class OptionRow(msgspec.Struct, frozen=True):
    field_type: str
    value: str


class BoardRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    workspace_id: UUID
    author_id: UUID
    assignee_id: UUID | None
    title: str
    content: str
    custom_fields: str  # JSON text: decoded once, into the reply's struct
    rank: str
    start_date: datetime | None
    due_date: datetime | None
    created_at: datetime
    updated_at: datetime
    participant_ids: list[UUID]
