"""Comments on boards."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from wealist.board.schemas.boards import BoardOut, ParticipantOut
from wealist.board.schemas.common import FileRef, IdList, check_text, clean_ids

CONTENT_MAX = 5000
MENTIONS_MAX = 20
Content = Annotated[str, msgspec.Meta(max_length=CONTENT_MAX)]


class CreateComment(msgspec.Struct, rename="camel", kw_only=True):
    """``mentionedUserIds`` (additive) and ``<@userId>`` tokens in the text mention people."""

    board_id: UUID
    content: Content
    attachment_ids: IdList = msgspec.field(default_factory=list)
    mentioned_user_ids: IdList = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.content = check_text(self.content, "content", 1, CONTENT_MAX, single_line=False)
        self.attachment_ids = clean_ids(self.attachment_ids, "attachmentIds")
        self.mentioned_user_ids = clean_ids(self.mentioned_user_ids, "mentions", MENTIONS_MAX)


class UpdateComment(msgspec.Struct, rename="camel", kw_only=True):
    content: Content
    attachment_ids: IdList = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.content = check_text(self.content, "content", 1, CONTENT_MAX, single_line=False)
        self.attachment_ids = clean_ids(self.attachment_ids, "attachmentIds")


class CommentOut(msgspec.Struct, rename="camel", kw_only=True):
    comment_id: UUID
    board_id: UUID
    user_id: UUID
    content: str
    attachments: list[FileRef]
    created_at: datetime
    updated_at: datetime


class BoardDetailOut(BoardOut, kw_only=True, omit_defaults=True):
    """``GET /api/boards/{id}``: the board with its participants and comments."""

    participants: list[ParticipantOut]
    comments: list[CommentOut]
