"""Boards (tasks), their moves, participants, activity and search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from wealist.board.schemas.common import FileRef, IdList, check_dates, check_text, clean_ids

FIELD_TYPES = frozenset({"stage", "importance", "role"})
TITLE_MAX = 200
CONTENT_MAX = 5000
PARTICIPANTS_MAX = 50
NIL = UUID(int=0)  # "assigneeId": nil UUID clears the assignee (contract 5.2)
OPTION_VALUE_MAX = 100  # a field option's value (contract 5.6)

Title = Annotated[str, msgspec.Meta(max_length=TITLE_MAX)]
Content = Annotated[str, msgspec.Meta(max_length=CONTENT_MAX)]
FieldName = Annotated[str, msgspec.Meta(max_length=32)]
OptionValue = Annotated[str, msgspec.Meta(max_length=OPTION_VALUE_MAX)]
CustomFields = Annotated[dict[FieldName, OptionValue], msgspec.Meta(max_length=len(FIELD_TYPES))]


def _fields(value: dict[str, str]) -> dict[str, str]:
    unknown = set(value) - FIELD_TYPES
    if unknown:
        raise ValueError(f"unknown custom field {min(unknown)!r}")
    return value


def _title(value: str) -> str:
    return check_text(value, "title", 1, TITLE_MAX, single_line=True)


def _content(value: str) -> str:
    return check_text(value, "content", 0, CONTENT_MAX, single_line=False)


def _people(value: list[UUID]) -> list[UUID]:
    return clean_ids(value, "participants", PARTICIPANTS_MAX)


class CreateBoard(msgspec.Struct, rename="camel", kw_only=True):
    project_id: UUID
    title: Title
    content: Content = ""
    custom_fields: CustomFields = msgspec.field(default_factory=dict)
    assignee_id: UUID | None = None
    start_date: datetime | None = None
    due_date: datetime | None = None
    participants: IdList = msgspec.field(default_factory=list)
    attachment_ids: IdList = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.title = _title(self.title)
        self.content = _content(self.content)
        self.custom_fields = _fields(self.custom_fields)
        check_dates(self.start_date, self.due_date)
        self.participants = _people(self.participants)
        self.attachment_ids = clean_ids(self.attachment_ids, "attachmentIds")
        if self.assignee_id == NIL:
            self.assignee_id = None


class UpdateBoard(msgspec.Struct, rename="camel", kw_only=True):
    """Any subset of the create fields. ``customFields`` keys given replace those keys;
    ``participants`` replaces the set; ``attachmentIds`` adds files; a nil ``assigneeId``
    clears the assignee; a date sent as null clears it."""

    title: Title | None = None
    content: Content | None = None
    custom_fields: CustomFields | None = None
    assignee_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    start_date: datetime | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime | msgspec.UnsetType | None = msgspec.UNSET
    participants: IdList | None = None
    attachment_ids: IdList = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.title is not None:
            self.title = _title(self.title)
        if self.content is not None:
            self.content = _content(self.content)
        if self.custom_fields is not None:
            self.custom_fields = _fields(self.custom_fields)
        if self.participants is not None:
            self.participants = _people(self.participants)
        self.attachment_ids = clean_ids(self.attachment_ids, "attachmentIds")
        if self.assignee_id == NIL:
            self.assignee_id = None


class MoveBoard(msgspec.Struct, rename="camel", kw_only=True):
    """``PUT /api/boards/{id}/move``: into a group (column), optionally next to a card:
    ``afterBoardId`` (placed right after it) or ``beforeBoardId`` (right before it).
    Without either the card goes to the end of the group."""

    project_id: UUID
    group_by_field_name: FieldName
    new_field_value: OptionValue
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
    attachments: list[FileRef]
    rank: str  # additive: the card's place in its column (byte order)
    version: int  # additive: grows with every change (If-Match)
    created_at: datetime
    updated_at: datetime
    assignee_id: UUID | None = None
    start_date: datetime | None = None
    due_date: datetime | None = None


class ParticipantOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    board_id: UUID
    user_id: UUID
    created_at: datetime


class MoveOut(msgspec.Struct, rename="camel", kw_only=True):
    board_id: UUID
    new_field_value: str
    message: str
    rank: str  # additive
    version: int  # additive


class AddParticipants(msgspec.Struct, rename="camel", kw_only=True):
    board_id: UUID
    user_ids: IdList

    def __post_init__(self) -> None:
        if not self.user_ids:
            raise ValueError("userIds must name at least one user")
        self.user_ids = _people(self.user_ids)


class ParticipantResult(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    user_id: UUID
    success: bool
    error: str | None = None


class AddedParticipants(msgspec.Struct, rename="camel", kw_only=True):
    total_requested: int
    total_success: int
    total_failed: int
    results: list[ParticipantResult]


class Change(msgspec.Struct, rename="camel", kw_only=True):
    field: str
    old_value: str | None = None
    new_value: str | None = None


class ActivityOut(msgspec.Struct, rename="camel", kw_only=True):
    activity_id: int
    board_id: UUID
    actor_id: UUID
    action: str
    changes: list[Change]
    created_at: datetime
