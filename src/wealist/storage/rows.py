"""Rows the storage queries return (column names are the field names)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = (
    "CountsRow",
    "FileRow",
    "FileSeat",
    "FolderCounted",
    "FolderRow",
    "FolderSeat",
    "ListedFile",
    "MemberRow",
    "Place",
    "ProjectRow",
    "ProjectSeat",
    "ProjectView",
    "PurgeRow",
    "ShareRow",
    "UsageRow",
    "VersionRow",
)


class Place(msgspec.Struct, frozen=True):
    """Where items sit: a folder, or the root of a drive (folder None); project None is the
    workspace's own drive."""

    workspace_id: UUID
    project_id: UUID | None
    folder_id: UUID | None

    @property
    def lock_key(self) -> str:
        return f"storage-names:{self.workspace_id}:{self.project_id}:{self.folder_id}"


class ProjectRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    name: str
    description: str | None
    default_permission: str
    is_public: bool
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class ProjectSeat(ProjectRow, frozen=True):
    """A drive with the caller's explicit permission in it (None: not a member)."""

    permission: str | None


class ProjectView(ProjectSeat, frozen=True):
    member_count: int
    file_count: int
    folder_count: int
    total_size: int
    total: int  # drives in the whole listing (a window count; 0 for a single drive)


class CountsRow(msgspec.Struct, frozen=True):
    file_count: int
    folder_count: int
    total_size: int


class MemberRow(msgspec.Struct, frozen=True):
    id: UUID
    project_id: UUID
    user_id: UUID
    permission: str
    added_by: UUID
    created_at: datetime
    updated_at: datetime


class FolderRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    project_id: UUID | None
    parent_id: UUID | None
    name: str
    path: str
    ancestors: list[UUID]
    color: str | None
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    trash_root: UUID | None


class FolderCounted(FolderRow, frozen=True):
    file_count: int
    folder_count: int
    total_size: int


class FileRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    project_id: UUID | None
    folder_id: UUID | None
    name: str
    original_name: str
    file_key: str
    file_size: int
    content_type: str
    status: str
    version: int
    uploaded_by: UUID
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    trash_root: UUID | None


class ListedFile(FileRow, frozen=True):
    total: int  # rows the whole listing has (a window count)


class FolderSeat(FolderRow, frozen=True):
    # what decides the caller's permission on the item (actions.common.item_level)
    project_public: bool | None
    default_permission: str | None
    project_deleted: bool
    member_permission: str | None
    share_level: int | None


class FileSeat(FileRow, frozen=True):
    # what decides the caller's permission on the item (actions.common.item_level)
    project_public: bool | None
    default_permission: str | None
    project_deleted: bool
    member_permission: str | None
    share_level: int | None


class VersionRow(msgspec.Struct, frozen=True):
    id: UUID
    file_id: UUID
    workspace_id: UUID
    version: int | None
    file_key: str
    file_size: int
    content_type: str
    original_name: str
    status: str
    uploaded_by: UUID
    created_at: datetime
    confirmed_at: datetime | None
    upload_expires_at: datetime


class ShareRow(msgspec.Struct, frozen=True):
    id: UUID
    workspace_id: UUID
    entity_type: str
    file_id: UUID | None
    folder_id: UUID | None
    shared_with_id: UUID | None
    shared_by_id: UUID
    permission: str
    is_public: bool
    share_link: str | None
    link_expires_at: datetime | None
    password_hash: str | None
    include_children: bool
    created_at: datetime
    updated_at: datetime
    entity_name: str | None  # None when the item is gone or in the trash


class UsageRow(msgspec.Struct, frozen=True):
    total_size: int
    file_count: int
    trash_size: int
    stored: int
    reserved: int


class PurgeRow(msgspec.Struct, frozen=True):
    keys: list[str]
    files: int
    folders: int
