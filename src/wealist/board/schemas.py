"""Wire structs of the board service (request and response bodies)."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "CreateProject",
    "MessageOut",
    "ProjectList",
    "ProjectMemberOut",
    "ProjectOut",
    "UpdateProject",
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NAME_MIN, NAME_MAX = 2, 100
DESCRIPTION_MAX = 500


def _name(value: str) -> str:
    value = value.strip()
    if not NAME_MIN <= len(value) <= NAME_MAX:
        raise ValueError(f"name must be {NAME_MIN} to {NAME_MAX} characters")
    if _CONTROL.search(value):
        raise ValueError("name contains control characters")
    return value


def _description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise ValueError(f"description is longer than {DESCRIPTION_MAX} characters")
    if "\x00" in value:
        raise ValueError("description contains a NUL character")
    return value


def check_dates(start: datetime | None, due: datetime | None) -> None:
    if start is not None and due is not None and start > due:
        raise ValueError("startDate must not be after dueDate")


class CreateProject(msgspec.Struct, rename="camel", kw_only=True):
    workspace_id: UUID
    name: str
    description: str = ""
    start_date: datetime | None = None
    due_date: datetime | None = None

    def __post_init__(self) -> None:
        self.name = _name(self.name)
        self.description = _description(self.description)
        check_dates(self.start_date, self.due_date)


class UpdateProject(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """Absent fields keep their value; a date sent as null clears it."""

    name: str | None = None
    description: str | None = None
    start_date: datetime | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime | msgspec.UnsetType | None = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.name is not None:
            self.name = _name(self.name)
        if self.description is not None:
            self.description = _description(self.description)


class AttachmentRef(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    file_name: str
    file_url: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    uploaded_at: datetime


class ProjectOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    project_id: UUID
    workspace_id: UUID
    owner_id: UUID
    name: str
    description: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    attachments: list[AttachmentRef]
    start_date: datetime | None = None
    due_date: datetime | None = None


class ProjectList(msgspec.Struct, kw_only=True):
    projects: list[ProjectOut]
    total: int
    page: int
    limit: int


class ProjectMemberOut(msgspec.Struct, rename="camel", kw_only=True):
    member_id: UUID
    project_id: UUID
    user_id: UUID
    role_name: str
    joined_at: datetime


class MessageOut(msgspec.Struct, frozen=True):
    message: str


# --- boards -----------------------------------------------------------------------------

FIELD_TYPES = frozenset({"stage", "importance", "role"})
TITLE_MAX = 200
CONTENT_MAX = 5000
PARTICIPANTS_MAX = 50


def _fields(value: dict[str, str]) -> dict[str, str]:
    unknown = set(value) - FIELD_TYPES
    if unknown:
        raise ValueError(f"unknown custom field {min(unknown)!r}")
    return value


class CreateBoard(msgspec.Struct, rename="camel", kw_only=True):
    project_id: UUID
    title: str
    content: str = ""
    custom_fields: dict[str, str] = msgspec.field(default_factory=dict)
    assignee_id: UUID | None = None
    start_date: datetime | None = None
    due_date: datetime | None = None
    participants: list[UUID] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.title = self.title.strip()
        if not 1 <= len(self.title) <= TITLE_MAX:
            raise ValueError(f"title must be 1 to {TITLE_MAX} characters")
        if _CONTROL.search(self.title):
            raise ValueError("title contains control characters")
        if len(self.content) > CONTENT_MAX:
            raise ValueError(f"content is longer than {CONTENT_MAX} characters")
        self.custom_fields = _fields(self.custom_fields)
        check_dates(self.start_date, self.due_date)
        self.participants = list(dict.fromkeys(self.participants))  # deduplicated, in order
        if len(self.participants) > PARTICIPANTS_MAX:
            raise ValueError(f"at most {PARTICIPANTS_MAX} participants")


class MoveBoard(msgspec.Struct, rename="camel", kw_only=True):
    """``PUT /api/boards/{id}/move``: into a group (column), optionally next to a card:
    ``afterBoardId`` (placed right after it) or ``beforeBoardId`` (right before it).
    Without either the card goes to the end of the group."""

    project_id: UUID
    group_by_field_name: str
    new_field_value: str
    before_board_id: UUID | None = None
    after_board_id: UUID | None = None

    def __post_init__(self) -> None:
        if self.group_by_field_name not in FIELD_TYPES:
            raise ValueError("groupByFieldName must be stage, importance or role")


class BoardOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    board_id: UUID
    project_id: UUID
    workspace_id: UUID
    author_id: UUID
    title: str
    content: str
    custom_fields: dict[str, str]
    participant_ids: list[UUID]
    attachments: list[AttachmentRef]
    rank: str  # additive: the card's place in its column (byte order)
    created_at: datetime
    updated_at: datetime
    assignee_id: UUID | None = None
    start_date: datetime | None = None
    due_date: datetime | None = None


class MoveOut(msgspec.Struct, rename="camel", kw_only=True):
    board_id: UUID
    new_field_value: str
    message: str
