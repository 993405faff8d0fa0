"""Wire structs of the user service (request and response bodies)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

__all__ = ("OAuthLogin", "OAuthLoginResult", "UserExists")

EMAIL_MAX = 254  # RFC 5321 path limit
EMAIL_LOCAL_MAX = 64
NAME_MAX = 100

# Deliberately practical, not RFC 5322: one "@", a dot-separated local part without
# whitespace, control characters or RFC specials, and a domain of at least two labels of
# letters, digits and inner hyphens (Unicode letters allowed for internationalised names).
_LOCAL_CHARS = r"[^\s@\x00-\x1f\x7f-\x9f\"(),.:;<>\[\\\]]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_EMAIL = re.compile(rf"({_LOCAL_CHARS}(?:\.{_LOCAL_CHARS})*)@{_LABEL}(?:\.{_LABEL})+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The exact lengths and the email syntax are checked after trimming, in __post_init__;
# max_length bounds the raw value while decoding.
Email = Annotated[
    str,
    msgspec.Meta(
        max_length=EMAIL_MAX,
        description=f"trimmed; compared case-insensitively; at most {EMAIL_MAX} characters",
    ),
]
Name = Annotated[
    str,
    msgspec.Meta(
        max_length=NAME_MAX, description=f"trimmed; may be empty; at most {NAME_MAX} characters"
    ),
]
Provider = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,32}$")]


def clean_email(value: str) -> str:
    """``value`` trimmed; ValueError (a 400 from msgspec) unless it is a usable address."""
    value = value.strip()
    if len(value) > EMAIL_MAX:
        raise ValueError(f"email is longer than {EMAIL_MAX} characters")
    match = _EMAIL.fullmatch(value)
    if match is None or len(match.group(1)) > EMAIL_LOCAL_MAX:
        raise ValueError("email is not a valid email address")
    return value


def clean_text(value: str, field: str, *, limit: int, empty: bool = False) -> str:
    """One line of user text, trimmed: bounded, without control characters."""
    value = value.strip()
    if not value and not empty:
        raise ValueError(f"{field} must not be empty")
    if len(value) > limit:
        raise ValueError(f"{field} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{field} contains control characters")
    return value


class OAuthLogin(msgspec.Struct, rename="camel", kw_only=True):
    """``POST /api/internal/oauth/login``: find or create the user with this email.

    ``email`` and ``name`` are trimmed; the email is compared case-insensitively and kept
    as given. ``createOnly`` (additive) refuses an existing account instead of returning
    it: password sign-up uses it so that nobody can sign up into somebody else's account.
    """

    email: Email
    name: Name
    provider: Provider  # "google", "local", or another lowercase provider name
    create_only: bool = False

    def __post_init__(self) -> None:
        # Raised errors become 400 VALIDATION_ERROR: msgspec reports them as invalid values.
        self.email = clean_email(self.email)
        self.name = clean_text(self.name, "name", limit=NAME_MAX, empty=True)


class OAuthLoginResult(msgspec.Struct, rename="camel", frozen=True):
    user_id: UUID


class UserExists(msgspec.Struct, frozen=True):
    exists: bool


# --- limits -------------------------------------------------------------------------------

WORKSPACE_NAME_MAX = 100
DESCRIPTION_MAX = 1000
NICKNAME_MAX = 50
FILE_NAME_MAX = 255
URL_MAX = 2048
GOOGLE_ID_MAX = 255

RoleName = Literal["OWNER", "ADMIN", "MEMBER"]
Decision = Literal["APPROVED", "REJECTED"]
ImageType = Literal["image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp"]

_HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > DESCRIPTION_MAX:
        raise ValueError(f"workspaceDescription is longer than {DESCRIPTION_MAX} characters")
    if "\x00" in value:
        raise ValueError("workspaceDescription contains a NUL character")
    return value


def _workspace_name(value: str | None) -> str | None:
    if value is None:
        return None
    return clean_text(value, "workspaceName", limit=WORKSPACE_NAME_MAX)


def _image_url(value: str | None) -> str | None:
    """An http(s) URL, or "" (clear the image), or None (keep it)."""
    if value is None or value == "":
        return value
    value = value.strip()
    if len(value) > URL_MAX or _HTTP_URL.fullmatch(value) is None:
        raise ValueError("profileImageUrl must be an http(s) URL")
    return value


# Upper bounds checked while decoding (the raw value, before trimming); the exact checks
# after trimming are the clean_* functions'.
WorkspaceName = Annotated[str, msgspec.Meta(max_length=WORKSPACE_NAME_MAX)]
Description = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX)]
NickName = Annotated[str, msgspec.Meta(max_length=NICKNAME_MAX)]
FileName = Annotated[str, msgspec.Meta(max_length=FILE_NAME_MAX)]
Url = Annotated[str, msgspec.Meta(max_length=URL_MAX)]
GoogleId = Annotated[str, msgspec.Meta(max_length=GOOGLE_ID_MAX)]
ImageSize = Annotated[int, msgspec.Meta(gt=0, le=2**53 - 1)]  # the limit is a setting


# --- users ------------------------------------------------------------------------------


class CreateUser(msgspec.Struct, rename="camel", kw_only=True):
    """``POST /api/users`` (internal key only)."""

    email: Email
    google_id: GoogleId | None = None
    provider: Provider = "google"

    def __post_init__(self) -> None:
        self.email = clean_email(self.email)
        if self.google_id is not None:
            self.google_id = clean_text(self.google_id, "googleId", limit=GOOGLE_ID_MAX)


class UpdateUser(msgspec.Struct, rename="camel", kw_only=True):
    """``PUT /api/users/{userId}``. ``email`` is the sign-in identity and cannot change
    here (only the current address is accepted); ``isActive: false`` deactivates."""

    email: Email | None = None
    is_active: bool | None = None
    name: Name | None = None

    def __post_init__(self) -> None:
        if self.email is not None:
            self.email = clean_email(self.email)
        if self.name is not None:
            self.name = clean_text(self.name, "name", limit=NAME_MAX, empty=True)


class UserOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    user_id: UUID
    email: str
    name: str
    provider: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    google_id: str | None = None
    deleted_at: datetime | None = None


class Message(msgspec.Struct, frozen=True):
    message: str


# --- workspaces -------------------------------------------------------------------------


class CreateWorkspace(msgspec.Struct, rename="camel", kw_only=True):
    workspace_name: WorkspaceName
    workspace_description: Description | None = None
    is_public: bool = True
    need_approved: bool = True

    def __post_init__(self) -> None:
        self.workspace_name = clean_text(
            self.workspace_name, "workspaceName", limit=WORKSPACE_NAME_MAX
        )
        self.workspace_description = _description(self.workspace_description)


class UpdateWorkspace(msgspec.Struct, rename="camel", kw_only=True):
    """``PUT /api/workspaces/ids/{id}``: absent fields keep their value."""

    workspace_name: WorkspaceName | None = None
    workspace_description: Description | None = None
    is_public: bool | None = None
    need_approved: bool | None = None

    def __post_init__(self) -> None:
        self.workspace_name = _workspace_name(self.workspace_name)
        self.workspace_description = _description(self.workspace_description)


class UpdateSettings(msgspec.Struct, rename="camel", kw_only=True):
    workspace_name: WorkspaceName | None = None
    workspace_description: Description | None = None
    is_public: bool | None = None
    requires_approval: bool | None = None
    only_owner_can_invite: bool | None = None

    def __post_init__(self) -> None:
        self.workspace_name = _workspace_name(self.workspace_name)
        self.workspace_description = _description(self.workspace_description)


class WorkspaceOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    workspace_id: UUID
    owner_id: UUID
    workspace_name: str
    is_public: bool
    need_approved: bool
    is_active: bool
    created_at: datetime
    workspace_description: str | None = None
    deleted_at: datetime | None = None
    owner_nick_name: str | None = None
    owner_email: str | None = None


class MyWorkspaceOut(msgspec.Struct, rename="camel", kw_only=True):
    """An entry of ``GET /api/workspaces/all`` (``isDefault`` is additive)."""

    workspace_id: UUID
    workspace_name: str
    workspace_description: str | None
    owner: bool
    role: str
    created_at: datetime
    is_default: bool


class SettingsOut(msgspec.Struct, rename="camel", kw_only=True):
    workspace_id: UUID
    workspace_name: str
    workspace_description: str | None
    is_public: bool
    requires_approval: bool
    only_owner_can_invite: bool


class SetDefault(msgspec.Struct, rename="camel", kw_only=True):
    workspace_id: UUID


# --- members ----------------------------------------------------------------------------


class Invite(msgspec.Struct, rename="camel", kw_only=True):
    email: Email
    role_name: RoleName = "MEMBER"

    def __post_init__(self) -> None:
        self.email = clean_email(self.email)


class ChangeRole(msgspec.Struct, rename="camel", kw_only=True):
    role_name: RoleName


class MemberOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    workspace_member_id: UUID
    workspace_id: UUID
    user_id: UUID
    role_name: str
    is_default: bool
    is_active: bool
    joined_at: datetime
    updated_at: datetime
    user_email: str | None = None
    nick_name: str | None = None
    profile_image_url: str | None = None


class MemberCheck(msgspec.Struct, rename="camel", frozen=True):
    is_member: bool


# --- join requests ----------------------------------------------------------------------


class JoinRequestCreate(msgspec.Struct, rename="camel", kw_only=True):
    workspace_id: UUID


class JoinRequestDecision(msgspec.Struct, rename="camel", kw_only=True):
    status: Decision


class JoinRequestOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    join_request_id: UUID
    workspace_id: UUID
    user_id: UUID
    status: str
    requested_at: datetime
    updated_at: datetime
    user_email: str | None = None
    nick_name: str | None = None
    workspace_name: str | None = None


# --- profiles ---------------------------------------------------------------------------


class CreateProfile(msgspec.Struct, rename="camel", kw_only=True):
    """``POST /api/profiles``. The profile's email is always the account's: ``email`` is
    accepted for compatibility and checked for syntax only."""

    workspace_id: UUID
    nick_name: NickName
    email: Email | None = None
    profile_image_url: Url | None = None

    def __post_init__(self) -> None:
        self.nick_name = clean_text(self.nick_name, "nickName", limit=NICKNAME_MAX)
        if self.email is not None:
            self.email = clean_email(self.email)
        self.profile_image_url = _image_url(self.profile_image_url) or None


class UpdateProfile(msgspec.Struct, rename="camel", kw_only=True):
    """``PUT /api/profiles/me``: absent fields keep their value; ``profileImageUrl: ""``
    removes the image."""

    nick_name: NickName | None = None
    profile_image_url: Url | None = None

    def __post_init__(self) -> None:
        if self.nick_name is not None:
            self.nick_name = clean_text(self.nick_name, "nickName", limit=NICKNAME_MAX)
        self.profile_image_url = _image_url(self.profile_image_url)


class ProfileOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    profile_id: UUID
    user_id: UUID
    workspace_id: UUID
    nick_name: str
    email: str
    created_at: datetime
    updated_at: datetime
    profile_image_url: str | None = None


class ImageUploadRequest(msgspec.Struct, rename="camel", kw_only=True):
    """Step 1 of the profile image flow: what will be uploaded."""

    file_name: FileName
    content_type: ImageType
    file_size: ImageSize

    def __post_init__(self) -> None:
        self.file_name = clean_text(self.file_name, "fileName", limit=FILE_NAME_MAX)


class ImageUploadUrl(msgspec.Struct, rename="camel", kw_only=True):
    upload_url: str
    file_key: str
    expires_at: int  # unix seconds
    attachment_id: UUID  # additive
    content_type: str  # additive: the Content-Type header the PUT must carry


class SaveAttachment(msgspec.Struct, rename="camel", kw_only=True):
    """Step 2: the upload finished; the server checks the object before accepting it."""

    file_key: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    file_name: FileName
    content_type: ImageType
    file_size: ImageSize

    def __post_init__(self) -> None:
        self.file_name = clean_text(self.file_name, "fileName", limit=FILE_NAME_MAX)


class AttachmentOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    attachment_id: UUID
    entity_type: str
    status: str
    file_name: str
    file_url: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    expires_at: datetime
    created_at: datetime
    entity_id: UUID | None = None


class ConfirmImage(msgspec.Struct, rename="camel", kw_only=True):
    """Step 3: make the uploaded image the profile's."""

    attachment_id: UUID
