"""Attachments: presigned uploads, registration, listing, download."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from wealist.board.schemas.common import MAX_SAFE_INT

EntityType = Literal["BOARD", "COMMENT", "PROJECT"]
MAX_BYTES = 50 * 1024 * 1024  # contract 5.5: 1 byte to 50 MB
FileName = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
ContentType = Annotated[str, msgspec.Meta(min_length=3, max_length=127)]
# Any case is accepted (contract 5.5): checked after decoding, within this bound.
EntityName = Annotated[str, msgspec.Meta(max_length=16)]
# 1 byte to MAX_BYTES is checked by the action (FILE_TOO_LARGE); this is the sane range.
FileSize = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INT)]


def _entity(value: str) -> str:
    upper = value.upper()  # the contract accepts any case
    if upper not in {"BOARD", "COMMENT", "PROJECT"}:
        raise ValueError("entityType must be BOARD, COMMENT or PROJECT")
    return upper


class PresignUpload(msgspec.Struct, rename="camel", kw_only=True):
    entity_type: EntityName
    workspace_id: UUID
    file_name: FileName
    file_size: FileSize
    content_type: ContentType

    def __post_init__(self) -> None:
        self.entity_type = _entity(self.entity_type)
        self.content_type = self.content_type.lower()


class UploadUrl(msgspec.Struct, rename="camel", kw_only=True):
    attachment_id: UUID
    upload_url: str
    file_key: str
    expires_in: int


class RegisterUpload(msgspec.Struct, rename="camel", kw_only=True):
    entity_type: EntityName
    file_key: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    file_name: FileName
    file_size: FileSize
    content_type: ContentType

    def __post_init__(self) -> None:
        self.entity_type = _entity(self.entity_type)
        self.content_type = self.content_type.lower()


class AttachmentOut(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    id: UUID
    attachment_id: UUID  # additive: the frontend reads either
    entity_type: str
    status: str
    file_name: str
    file_url: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    uploaded_at: datetime
    entity_id: UUID | None = None
    expires_at: datetime | None = None
