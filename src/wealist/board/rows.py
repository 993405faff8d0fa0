"""Rows the board service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "ActivityRow",
    "AttachmentRow",
    "BoardRow",
    "CommentRow",
    "DueRow",
    "EventBoundsRow",
    "FieldOptionRow",
    "FileRow",
    "JoinRequestRow",
    "OptionValueRow",
    "OwnedFileRow",
    "ParticipantRow",
    "ProjectHitRow",
    "ProjectMemberRow",
    "ProjectRow",
    "PurgeRow",
    "SeatRow",
)


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


class ProjectHitRow(ProjectRow, frozen=True, kw_only=True):
    total: int  # matches in all (the search's count(*) OVER ())


class ProjectMemberRow(msgspec.Struct, frozen=True):
    id: UUID
    project_id: UUID
    user_id: UUID
    role_name: str
    joined_at: datetime


class JoinRequestRow(msgspec.Struct, frozen=True):
    id: UUID
    project_id: UUID
    user_id: UUID
    status: str
    requested_at: datetime
    updated_at: datetime


class OptionValueRow(msgspec.Struct, frozen=True):
    field_type: str
    value: str


class FieldOptionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    field_type: str
    value: str
    label: str
    color: str
    display_order: int
    is_system_default: bool
    created_at: datetime
    updated_at: datetime


class FileRow(msgspec.Struct, frozen=True, kw_only=True):
    """A confirmed attachment as lists show it (also decoded from the views' JSON)."""

    id: UUID
    file_name: str
    file_key: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    created_at: datetime


class OwnedFileRow(FileRow, frozen=True, kw_only=True):
    owner_id: UUID


class AttachmentRow(FileRow, frozen=True, kw_only=True):
    workspace_id: UUID
    entity_type: str
    entity_id: UUID | None
    project_id: UUID | None
    board_id: UUID | None
    status: str
    expires_at: datetime | None


class PurgeRow(msgspec.Struct, frozen=True):
    id: UUID
    file_key: str


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
    version: int
    start_date: datetime | None
    due_date: datetime | None
    created_at: datetime
    updated_at: datetime
    participant_ids: list[UUID]
    attachments: str  # JSON array of FileRow


class SeatedBoardRow(BoardRow, frozen=True, kw_only=True):
    """A row of ``project_boards_for``: the reader's seat, then a board. When
    ``has_board`` is false (a project without matching boards) the board fields are None."""

    seat_workspace_id: UUID
    seat_role: str | None
    seat_seq: int
    has_board: bool
    stage_order: int | None


class ParticipantRow(msgspec.Struct, frozen=True):
    id: UUID
    board_id: UUID
    user_id: UUID
    created_at: datetime


class CommentRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    board_id: UUID
    project_id: UUID
    user_id: UUID
    content: str
    created_at: datetime
    updated_at: datetime
    attachments: str  # JSON array of FileRow


class ActivityRow(msgspec.Struct, frozen=True):
    id: int
    board_id: UUID
    actor_id: UUID
    action: str
    changes: str  # JSON array of {field, oldValue, newValue}
    created_at: datetime


class DueRow(msgspec.Struct, frozen=True):
    id: UUID
    project_name: str


class EventBoundsRow(msgspec.Struct, frozen=True):
    last: int
    oldest: int | None
