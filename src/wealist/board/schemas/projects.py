"""Projects, their members and join requests, init-settings, search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from wealist.board.schemas.common import FileRef, IdList, check_dates, check_text, clean_ids

NAME_MIN, NAME_MAX = 2, 100
DESCRIPTION_MAX = 500
Name = Annotated[str, msgspec.Meta(max_length=NAME_MAX)]
Description = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX)]
Role = Literal["OWNER", "ADMIN", "MEMBER"]
Decision = Literal["APPROVED", "REJECTED"]
RequestStatus = Literal["PENDING", "APPROVED", "REJECTED"]


class CreateProject(msgspec.Struct, rename="camel", kw_only=True):
    workspace_id: UUID
    name: Name
    description: Description = ""
    start_date: datetime | None = None
    due_date: datetime | None = None
    attachment_ids: IdList = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = check_text(self.name, "name", NAME_MIN, NAME_MAX, single_line=True)
        self.description = check_text(
            self.description, "description", 0, DESCRIPTION_MAX, single_line=False
        )
        check_dates(self.start_date, self.due_date)
        self.attachment_ids = clean_ids(self.attachment_ids, "attachmentIds")


class UpdateProject(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """Absent fields keep their value; a date sent as null clears it; ``attachmentIds``
    adds files (the original deleted every file when it was present, even empty)."""

    name: Name | None = None
    description: Description | None = None
    start_date: datetime | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime | msgspec.UnsetType | None = msgspec.UNSET
    attachment_ids: IdList = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.name is not None:
            self.name = check_text(self.name, "name", NAME_MIN, NAME_MAX, single_line=True)
        if self.description is not None:
            self.description = check_text(
                self.description, "description", 0, DESCRIPTION_MAX, single_line=False
            )
        self.attachment_ids = clean_ids(self.attachment_ids, "attachmentIds")


class ProjectOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    project_id: UUID
    workspace_id: UUID
    owner_id: UUID
    name: str
    description: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    attachments: list[FileRef]
    start_date: datetime | None = None
    due_date: datetime | None = None
    owner_email: str | None = None
    owner_name: str | None = None


class ProjectList(msgspec.Struct, kw_only=True):
    projects: list[ProjectOut]
    total: int
    page: int
    limit: int


class ProjectMemberOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    member_id: UUID
    project_id: UUID
    user_id: UUID
    role_name: str
    joined_at: datetime
    user_email: str | None = None
    user_name: str | None = None


class ChangeMemberRole(msgspec.Struct, rename="camel", kw_only=True):
    role_name: Role


class CreateJoinRequest(msgspec.Struct, rename="camel", kw_only=True):
    project_id: UUID


class DecideJoinRequest(msgspec.Struct, rename="camel", kw_only=True):
    status: Decision


class JoinRequestOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    request_id: UUID
    project_id: UUID
    user_id: UUID
    status: str
    requested_at: datetime
    updated_at: datetime
    user_email: str | None = None
    user_name: str | None = None


class OnlineUsers(msgspec.Struct, rename="camel", kw_only=True):
    """Raw, without the envelope (contract 5.1)."""

    online_users: list[str]
    count: int


# --- init-settings ----------------------------------------------------------------------


class InitProject(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    project_id: UUID
    workspace_id: UUID
    workspace_name: str
    name: str
    description: str
    owner_id: UUID
    is_public: bool
    created_at: datetime
    updated_at: datetime
    start_date: datetime | None = None
    due_date: datetime | None = None
    owner_email: str | None = None
    owner_name: str | None = None


class InitOption(msgspec.Struct, rename="camel", kw_only=True):
    option_id: UUID
    option_label: str
    option_value: str
    color: str
    display_order: int
    field_id: str


class InitField(msgspec.Struct, rename="camel", kw_only=True):
    field_id: str
    field_name: str
    field_type: str
    is_required: bool
    description: str
    options: list[InitOption]


class FieldTypeOut(msgspec.Struct, rename="camel", kw_only=True):
    type_id: str
    type_name: str
    description: str


class InitSettings(msgspec.Struct, rename="camel", kw_only=True):
    project: InitProject
    fields: list[InitField]
    field_types: list[FieldTypeOut]
    default_view_id: None = None
    event_seq: int = 0  # additive: the live board's sequence number when this was read


# --- search -----------------------------------------------------------------------------

Page = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=100)]
