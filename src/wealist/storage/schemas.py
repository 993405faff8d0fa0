"""Wire structs of the storage service (contract 8), camelCase as the frontend reads them.

Envelopes: files, folders and shares answer ``{success, data}`` or ``{success, message}``
(plus ``data`` where the frontend reads it, 13.2). Drives ("projects") answer the raw DTO as
the original did, and also carry ``success`` and ``data`` because the frontend reads
``.data``: one reply serves both readers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

__all__ = (
    "AddMember",
    "ChangeMember",
    "ConfirmUpload",
    "CreateFolder",
    "CreateProject",
    "CreateShare",
    "Done",
    "DoneWith",
    "DownloadOut",
    "EmptyTrashOut",
    "FileListOut",
    "FileOut",
    "FolderOut",
    "MemberOut",
    "MemberReply",
    "MembersReply",
    "Ok",
    "PermissionOut",
    "ProjectListReply",
    "ProjectOut",
    "ProjectReply",
    "PublicDownload",
    "PublicShareOut",
    "SearchOut",
    "ShareOut",
    "SharedItemOut",
    "StatsOut",
    "UpdateFile",
    "UpdateFolder",
    "UpdateProject",
    "UpdateShare",
    "UploadUrlOut",
    "UploadUrlRequest",
    "UsageOut",
    "VersionOut",
    "VersionUploadRequest",
    "ok",
)

T = TypeVar("T")

Name = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")]
Color = Annotated[str, Meta(max_length=7, pattern=r"^#[0-9A-Fa-f]{6}$")]
ContentType = Annotated[
    str, Meta(max_length=255, pattern=r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
]
# The largest file and the quotas are settings, checked by the actions; this is the sane
# range: what the (JavaScript) frontend represents exactly.
Size = Annotated[int, Meta(ge=1, le=2**53 - 1)]
Description = Annotated[str, Meta(max_length=1024)]
DrivePermission = Literal["OWNER", "EDITOR", "VIEWER"]
SharePermission = Literal["VIEWER", "COMMENTER", "EDITOR"]
EntityType = Literal["FILE", "FOLDER"]
Password = Annotated[str, Meta(min_length=4, max_length=128)]


class Ok(msgspec.Struct, Generic[T], frozen=True):
    success: bool
    data: T


def ok(value: T) -> Ok[T]:
    return Ok(True, value)


class Done(msgspec.Struct, frozen=True):
    message: str
    success: bool = True


class DoneWith(msgspec.Struct, Generic[T], frozen=True):
    """``{success, message}`` as the original, plus the ``data`` the frontend reads."""

    message: str
    data: T
    success: bool = True


# --- requests ---------------------------------------------------------------------------


class _Body(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class CreateFolder(_Body, frozen=True, kw_only=True):
    workspace_id: UUID
    name: Name
    project_id: UUID | None = None
    parent_id: UUID | None = None
    color: Color | None = None


class UpdateFolder(_Body, frozen=True, kw_only=True):
    name: Name | UnsetType = UNSET
    color: Color | UnsetType | None = UNSET
    parent_id: UUID | UnsetType | None = UNSET  # the nil UUID (or null) moves to the root


class UploadUrlRequest(_Body, frozen=True, kw_only=True):
    workspace_id: UUID
    file_name: Name
    content_type: ContentType
    file_size: Size
    project_id: UUID | None = None
    folder_id: UUID | None = None


class VersionUploadRequest(_Body, frozen=True, kw_only=True):
    content_type: ContentType
    file_size: Size
    file_name: Name | None = None  # the uploaded file's own name (kept per version)


class ConfirmUpload(_Body, frozen=True, kw_only=True):
    file_id: UUID
    version_id: UUID | None = None  # a new version's id; omitted: the file's first upload


class UpdateFile(_Body, frozen=True, kw_only=True):
    name: Name | UnsetType = UNSET
    folder_id: UUID | UnsetType | None = UNSET  # the nil UUID (or null) moves to the root


class CreateShare(_Body, frozen=True, kw_only=True):
    entity_type: EntityType
    entity_id: UUID
    permission: SharePermission
    shared_with_id: UUID | None = None
    is_public: bool = False
    expires_in_days: Annotated[int, Meta(ge=0, le=3650)] | None = None
    include_children: bool = True
    password: Password | None = None  # public links only


class UpdateShare(_Body, frozen=True, kw_only=True):
    permission: SharePermission | UnsetType = UNSET
    expires_in_days: Annotated[int, Meta(ge=-3650, le=3650)] | UnsetType | None = (
        UNSET  # <= 0 clears
    )
    password: Password | UnsetType | None = UNSET  # null removes it


class PublicDownload(_Body, frozen=True, kw_only=True):
    password: Annotated[str, Meta(max_length=128)] | None = None
    file_id: UUID | None = None  # which file of a shared folder


class CreateProject(_Body, frozen=True, kw_only=True):
    workspace_id: UUID
    name: Name
    description: Description | None = None
    default_permission: DrivePermission = "VIEWER"
    is_public: bool = False


class UpdateProject(_Body, frozen=True, kw_only=True):
    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    default_permission: DrivePermission | UnsetType = UNSET
    is_public: bool | UnsetType = UNSET


class AddMember(_Body, frozen=True, kw_only=True):
    user_id: UUID
    permission: DrivePermission


class ChangeMember(_Body, frozen=True, kw_only=True):
    permission: DrivePermission


# --- replies ----------------------------------------------------------------------------


class _Out(msgspec.Struct, rename="camel", omit_defaults=True, frozen=True, kw_only=True):
    pass


class FileOut(_Out, frozen=True, kw_only=True):
    id: UUID
    workspace_id: UUID
    name: str
    original_name: str
    file_url: str
    file_size: int
    content_type: str
    status: str
    version: int
    uploaded_by: UUID
    created_at: datetime
    updated_at: datetime
    is_deleted: bool
    is_image: bool
    is_document: bool
    extension: str
    project_id: UUID | None = None
    folder_id: UUID | None = None


class FolderOut(_Out, frozen=True, kw_only=True):
    id: UUID
    workspace_id: UUID
    name: str
    path: str
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    is_deleted: bool
    file_count: int
    folder_count: int
    total_size: int
    project_id: UUID | None = None
    parent_id: UUID | None = None
    color: str | None = None
    children: list[FolderOut] | None = None
    files: list[FileOut] | None = None


class UploadUrlOut(_Out, frozen=True, kw_only=True):
    upload_url: str
    file_key: str
    file_id: UUID
    version_id: UUID
    expires_at: datetime
    content_type: str
    file_size: int


class DownloadOut(_Out, frozen=True, kw_only=True):
    download_url: str
    expires_at: datetime
    file_name: str


class FileListOut(_Out, frozen=True, kw_only=True):
    files: list[FileOut]
    total: int
    page: int
    page_size: int
    total_pages: int
    next_cursor: str | None = None  # keyset paging: pass it back as ``cursor``


class SearchOut(_Out, frozen=True, kw_only=True):
    files: list[FileOut]
    folders: list[FolderOut]
    total: int
    page: int
    page_size: int
    total_pages: int


class UsageOut(_Out, frozen=True, kw_only=True):
    total_size: int
    total_size_mb: float = msgspec.field(name="totalSizeMB")
    total_size_gb: float = msgspec.field(name="totalSizeGB")
    file_count: int
    workspace_id: UUID
    quota_bytes: int
    used_bytes: int  # every stored version, the trash included, plus pending uploads
    remaining_bytes: int
    trash_size: int


class VersionOut(_Out, frozen=True, kw_only=True):
    version_id: UUID
    version: int
    file_size: int
    content_type: str
    original_name: str
    uploaded_by: UUID
    created_at: datetime
    is_current: bool


class EmptyTrashOut(_Out, frozen=True, kw_only=True):
    deleted_files: int
    deleted_folders: int


class ShareOut(_Out, frozen=True, kw_only=True):
    id: UUID
    entity_type: str
    entity_id: UUID
    entity_name: str
    shared_by_id: UUID
    shared_by_name: str
    permission: str
    is_public: bool
    is_expired: bool
    password_protected: bool
    created_at: datetime
    updated_at: datetime
    shared_with_id: UUID | None = None
    shared_with_name: str | None = None
    share_link: str | None = None
    share_url: str | None = None
    link_expires_at: datetime | None = None
    include_children: bool | None = None


class SharedItemOut(_Out, frozen=True, kw_only=True):
    entity_type: str
    entity_id: UUID
    entity_name: str
    permission: str
    shared_by_id: UUID
    shared_by_name: str
    shared_at: datetime
    share_id: UUID
    workspace_id: UUID


class PublicShareOut(_Out, frozen=True, kw_only=True):
    share: ShareOut
    file: FileOut | None = None
    folder: FolderOut | None = None


class PermissionOut(_Out, frozen=True, kw_only=True):
    permission: str


class StatsOut(_Out, frozen=True, kw_only=True):
    project_id: UUID
    file_count: int
    folder_count: int
    total_size: int
    member_count: int


class MemberOut(_Out, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    user_id: UUID
    permission: str
    added_by: UUID
    created_at: datetime
    updated_at: datetime
    user_name: str | None = None
    user_email: str | None = None


class MemberReply(MemberOut, frozen=True, kw_only=True):
    success: bool  # always sent (omit_defaults would drop a default)
    data: MemberOut


class MembersReply(_Out, frozen=True, kw_only=True):
    members: list[MemberOut]
    data: list[MemberOut]
    success: bool  # always sent (omit_defaults would drop a default)


class ProjectOut(_Out, frozen=True, kw_only=True):
    id: UUID
    workspace_id: UUID
    name: str
    default_permission: str
    is_public: bool
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    is_deleted: bool
    member_count: int
    file_count: int
    folder_count: int
    total_size: int
    description: str | None = None
    my_permission: str | None = None


class ProjectReply(ProjectOut, frozen=True, kw_only=True):
    success: bool  # always sent (omit_defaults would drop a default)
    data: ProjectOut


class ProjectListReply(_Out, frozen=True, kw_only=True):
    projects: list[ProjectOut]
    total: int
    page: int
    page_size: int
    total_pages: int
    data: list[ProjectOut]
    success: bool  # always sent (omit_defaults would drop a default)
