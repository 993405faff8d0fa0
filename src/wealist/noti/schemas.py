"""Wire structs of the noti service (contract 7.1, plus additive fields and routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

import msgspec

__all__ = (
    "NOTIFICATION_TYPES",
    "BulkCreate",
    "BulkCreated",
    "MarkedAsRead",
    "NotificationEvent",
    "NotificationFields",
    "NotificationList",
    "NotificationOut",
    "NotificationType",
    "PreferenceChange",
    "PreferenceOut",
    "PreferencesOut",
    "PreferencesUpdate",
    "ResourceType",
    "Source",
    "UnreadCount",
)

NotificationType = Literal[
    # task (declared by the original, never emitted by it)
    "TASK_ASSIGNED",
    "TASK_UNASSIGNED",
    "TASK_MENTIONED",
    "TASK_DUE_SOON",
    "TASK_OVERDUE",
    "TASK_STATUS_CHANGED",
    # comment
    "COMMENT_ADDED",
    "COMMENT_MENTIONED",
    # workspace
    "WORKSPACE_INVITED",
    "WORKSPACE_ROLE_CHANGED",
    "WORKSPACE_REMOVED",
    # project
    "PROJECT_INVITED",
    "PROJECT_ROLE_CHANGED",
    "PROJECT_REMOVED",
    # board
    "BOARD_ASSIGNED",
    "BOARD_UNASSIGNED",
    "BOARD_PARTICIPANT_ADDED",
    "BOARD_UPDATED",
    "BOARD_STATUS_CHANGED",
    "BOARD_COMMENT_ADDED",
    "BOARD_DUE_SOON",
    "BOARD_OVERDUE",
    # chat (additive: the original chat service sent none)
    "CHAT_MESSAGE",
    "CHAT_MENTIONED",
    # the original frontend's spelling (contract 13.2)
    "PARTICIPANT_ADDED",
]
NOTIFICATION_TYPES: tuple[str, ...] = get_args(NotificationType)

ResourceType = Literal["task", "comment", "workspace", "project", "board", "chat"]

ResourceName = Annotated[str, msgspec.Meta(max_length=255)]
METADATA_MAX_BYTES = 8192


class NotificationFields(msgspec.Struct, rename="camel", kw_only=True):
    """Contract 7.1 NotificationEvent, as a producer's outbox event carries it.

    Unknown fields are ignored here (events evolve by adding fields); ``type`` and
    ``resourceType`` must be values of the contract's enums.
    """

    type: NotificationType
    actor_id: UUID
    target_user_id: UUID
    workspace_id: UUID
    resource_type: ResourceType
    resource_id: UUID
    resource_name: ResourceName | None = None
    metadata: dict[str, Any] | None = None
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None  # overrides createdAt

    def __post_init__(self) -> None:
        if self.metadata is not None and len(msgspec.json.encode(self.metadata)) > (
            METADATA_MAX_BYTES
        ):
            raise ValueError(f"metadata is larger than {METADATA_MAX_BYTES} bytes")


class NotificationEvent(NotificationFields, forbid_unknown_fields=True, kw_only=True):
    """``POST /api/internal/notifications``: one notification to create.

    ``eventId`` (additive) is the producer's id for it: a retried request with the same
    id creates nothing new and answers with the notification created the first time.
    """

    event_id: UUID | None = None


class BulkCreate(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``POST /api/internal/notifications/bulk``: 1 to 100 notifications, all or none valid."""

    notifications: Annotated[list[NotificationEvent], msgspec.Meta(min_length=1, max_length=100)]


class NotificationOut(msgspec.Struct, rename="camel", kw_only=True):
    """Contract 7.1 Notification; ``seq`` (additive) is its SSE ``id:``."""

    id: UUID
    type: str
    actor_id: UUID
    target_user_id: UUID
    workspace_id: UUID
    resource_type: str
    resource_id: UUID
    resource_name: str | None
    metadata: dict[str, Any] | None
    is_read: bool
    read_at: datetime | None
    created_at: datetime
    seq: int | None = None


class BulkCreated(msgspec.Struct, rename="camel"):
    """``created`` new notifications; ``duplicates`` (additive): eventIds applied before."""

    created: int
    notifications: list[NotificationOut]
    duplicates: int = 0


class NotificationList(msgspec.Struct, rename="camel", kw_only=True):
    """A page of the list; ``nextCursor`` (additive) continues it by keyset."""

    notifications: list[NotificationOut]
    total: int
    page: int
    limit: int
    has_more: bool
    next_cursor: str | None = None


class UnreadCount(msgspec.Struct, rename="camel"):
    count: int
    workspace_id: UUID


class MarkedAsRead(msgspec.Struct, rename="camel"):
    marked_as_read: int


# --- preferences ------------------------------------------------------------------------

Source = Literal["default", "global", "workspace"]


class PreferenceOut(msgspec.Struct, rename="camel", kw_only=True):
    """The effective choice for one type, and where each channel's value comes from."""

    type: str
    in_app: bool
    email: bool
    in_app_source: Source
    email_source: Source


class PreferencesOut(msgspec.Struct, rename="camel", kw_only=True):
    """Every notification type's channels, for every workspace (``workspaceId`` null) or
    one; ``emailAddress`` is where digests go (null until email is turned on)."""

    workspace_id: UUID | None
    email_address: str | None
    preferences: list[PreferenceOut]


class PreferenceChange(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """One type's channels: true/false sets, null inherits (workspace -> global -> default),
    an omitted channel stays as it is."""

    type: NotificationType
    in_app: bool | msgspec.UnsetType | None = msgspec.UNSET
    email: bool | msgspec.UnsetType | None = msgspec.UNSET


class PreferencesUpdate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """``PUT /api/notifications/preferences``: changes for every workspace (no
    ``workspaceId``) or for one workspace the caller is a member of."""

    preferences: Annotated[list[PreferenceChange], msgspec.Meta(min_length=1, max_length=64)]
    workspace_id: UUID | None = None
