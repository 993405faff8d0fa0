"""Rows the user service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "AttachmentRow",
    "BumpedMembershipRow",
    "CreatedWorkspaceRow",
    "EmailUserRow",
    "JoinRequestRefRow",
    "JoinRequestRow",
    "LoginUserRow",
    "MemberRefRow",
    "MemberRow",
    "MemberVersionRow",
    "MembershipRow",
    "MyWorkspaceRow",
    "ProfileRow",
    "PurgeRow",
    "SeatRow",
    "UserRow",
    "UserWorkspaceVersionRow",
    "WorkspaceRow",
)


class LoginUserRow(msgspec.Struct, frozen=True):
    """The user an internal login found or created (``upsert_login_user``)."""

    id: UUID
    created: bool  # this call inserted the row
    active: bool  # is_active and not soft-deleted


class UserRow(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str
    google_id: str | None
    provider: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class EmailUserRow(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str


class WorkspaceRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    owner_id: UUID
    workspace_name: str
    workspace_description: str | None
    is_public: bool
    need_approved: bool
    only_owner_can_invite: bool
    is_active: bool
    created_at: datetime
    deleted_at: datetime | None
    owner_nick_name: str | None
    owner_email: str | None


class SeatRow(WorkspaceRow, frozen=True, kw_only=True):
    """A workspace together with the caller's membership in it (the access decision)."""

    member_id: UUID
    role: str


class CreatedWorkspaceRow(SeatRow, frozen=True, kw_only=True):
    version: int  # of the owner's new membership


class MyWorkspaceRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_name: str
    workspace_description: str | None
    owner: bool
    role: str
    is_default: bool
    created_at: datetime


class MemberRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    user_id: UUID
    role_name: str
    is_default: bool
    is_active: bool
    joined_at: datetime
    updated_at: datetime
    user_email: str
    nick_name: str
    profile_image_url: str | None


class MemberRefRow(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    role: str


class MemberVersionRow(msgspec.Struct, frozen=True):
    id: UUID
    version: int


class MembershipRow(msgspec.Struct, frozen=True):
    role: str
    is_member: bool
    version: int


class BumpedMembershipRow(msgspec.Struct, frozen=True):
    user_id: UUID
    is_active: bool
    version: int


class UserWorkspaceVersionRow(msgspec.Struct, frozen=True):
    workspace_id: UUID
    version: int


class JoinRequestRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    user_id: UUID
    status: str
    requested_at: datetime
    updated_at: datetime
    user_email: str
    nick_name: str
    workspace_name: str


class JoinRequestRefRow(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    status: str


class ProfileRow(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    workspace_id: UUID
    nick_name: str
    email: str
    profile_image_url: str | None
    created_at: datetime
    updated_at: datetime


class AttachmentRow(msgspec.Struct, frozen=True):
    id: UUID
    entity_type: str
    entity_id: UUID | None
    status: str
    file_key: str
    file_name: str
    file_url: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    uploaded_at: datetime | None
    expires_at: datetime
    created_at: datetime


class PurgeRow(msgspec.Struct, frozen=True):
    id: UUID
    file_key: str
