"""Notifications: create (once per producer event id), list, count, read, read-all, delete.

Every change commits before anyone hears of it: the streams' frames and the unread-count
invalidations run in ``tx.on_commit``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import AlreadyExists, NotFound, ValidationFailed
from wealist.noti import store
from wealist.noti.actions.common import (
    invalidate_unread,
    notification_out,
    publish,
    read_unread_cache,
    write_unread_cache,
)
from wealist.noti.frames import notification_frame, state_frame
from wealist.noti.metrics import metrics_of
from wealist.noti.rows import NotificationRow
from wealist.noti.schemas import (
    MarkedAsRead,
    NotificationFields,
    NotificationList,
    NotificationOut,
)

__all__ = (
    "Created",
    "Deleted",
    "ReadAll",
    "ReadOne",
    "count_unread",
    "create_in",
    "do_create",
    "do_delete",
    "do_mark_all_read",
    "do_mark_read",
    "list_notifications",
)

NOT_FOUND = "notification not found"
_encode = msgspec.json.Encoder().encode


# --- the state-change frames streams receive (additive SSE events) ----------------------


class ReadOne(msgspec.Struct, rename="camel"):
    """``event: read``: a notification was read (in another tab, maybe)."""

    id: UUID
    workspace_id: UUID
    read_at: datetime | None


class ReadAll(msgspec.Struct, rename="camel"):
    """``event: read-all``: everything of the workspace up to ``readAt`` is read."""

    workspace_id: UUID
    marked_as_read: int
    read_at: datetime


class Deleted(msgspec.Struct, rename="camel"):
    """``event: deleted``."""

    id: UUID
    workspace_id: UUID


# --- create -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """What a create call produced: the new rows, and for ids applied before, their rows."""

    rows: list[NotificationRow]
    earlier: list[NotificationRow]
    duplicates: int


def _columns(items: Sequence[tuple[NotificationFields, UUID | None]]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "ids",
            "event_ids",
            "types",
            "actors",
            "targets",
            "workspaces",
            "resource_types",
            "resource_ids",
            "resource_names",
            "metadata",
            "occurred",
        )
    }
    for item, event_id in items:
        columns["ids"].append(uuid.uuid4())
        columns["event_ids"].append(event_id)
        columns["types"].append(item.type)
        columns["actors"].append(item.actor_id)
        columns["targets"].append(item.target_user_id)
        columns["workspaces"].append(item.workspace_id)
        columns["resource_types"].append(item.resource_type)
        columns["resource_ids"].append(item.resource_id)
        columns["resource_names"].append(item.resource_name)
        columns["metadata"].append(
            None if item.metadata is None else _encode(item.metadata).decode()
        )
        columns["occurred"].append(item.occurred_at)
    return columns


async def create_in(
    ctx: ServiceContext,
    tx: Tx,
    items: Sequence[tuple[NotificationFields, UUID | None]],
    *,
    claimed: bool = False,
) -> Created:
    """Create notifications inside ``tx``; each producer event id is applied once.

    The event ids are claimed in the shared inbox first (unless the caller ``claimed``
    them already): a concurrent delivery of the same id waits there until this
    transaction ends, then finds it claimed.
    """
    seen: set[UUID] = set()
    unique: list[tuple[NotificationFields, UUID | None]] = []
    for item, event_id in items:
        if event_id is not None:
            if event_id in seen:
                continue
            seen.add(event_id)
        unique.append((item, event_id))
    fresh = unique
    if seen and not claimed:
        first_time = await store.claim_events(tx, list(seen))
        fresh = [(i, e) for i, e in unique if e is None or e in first_time]
    rows = await store.insert_notifications(tx, _columns(fresh)) if fresh else []
    tx.on_commit(lambda: announce_created(ctx, rows))
    # Ids applied before: claimed earlier, or (after the inbox forgot them) still on a row.
    repeated = seen - {r.event_id for r in rows}
    earlier = await store.notifications_by_events(tx, list(repeated)) if repeated else []
    return Created(rows, earlier, len(items) - len(rows))


async def announce_created(ctx: ServiceContext, rows: list[NotificationRow]) -> None:
    metrics_of(ctx).created.inc(len(rows))
    shown = sorted((r for r in rows if r.seq is not None), key=lambda r: r.seq or 0)
    await publish(
        ctx,
        [
            (r.target_user_id, notification_frame(r.seq or 0, r.workspace_id, notification_out(r)))
            for r in shown
        ],
    )
    await invalidate_unread(ctx, [(r.target_user_id, r.workspace_id) for r in shown])


async def do_create(
    ctx: ServiceContext, items: Sequence[tuple[NotificationFields, UUID | None]]
) -> Created:
    async with ctx.database.transaction() as tx:
        return await create_in(ctx, tx, items)


def single_reply(created: Created) -> NotificationOut:
    """The one notification of a single create: the new one, or the one its eventId made."""
    for row in (*created.rows, *created.earlier):
        return notification_out(row)
    raise AlreadyExists("this eventId was applied before and its notification no longer exists")


# --- list and count ---------------------------------------------------------------------


def _cursor_of(row: NotificationRow) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, _, ident = base64.urlsafe_b64decode(padded).decode().partition("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("naive time")
        return when, UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor is not a cursor this list gave out") from None


async def list_notifications(
    ctx: ServiceContext,
    user: UUID,
    workspace: UUID,
    *,
    page: int,
    limit: int,
    unread_only: bool,
    cursor: str | None,
) -> NotificationList:
    """The caller's notifications of one workspace, newest first (two queries)."""
    async with ctx.database.connection() as conn:
        total = await store.count_listed(conn, user, workspace, unread_only)
        if cursor:
            rows = await store.list_after(
                conn,
                user,
                workspace,
                unread_only=unread_only,
                limit=limit + 1,
                before=_parse_cursor(cursor),
            )
        else:
            rows = await store.list_page(
                conn,
                user,
                workspace,
                unread_only=unread_only,
                limit=limit + 1,
                offset=(page - 1) * limit,
            )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return NotificationList(
        notifications=[notification_out(r) for r in rows],
        total=total,
        page=page,
        limit=limit,
        has_more=has_more,
        next_cursor=_cursor_of(rows[-1]) if has_more and rows else None,
    )


async def count_unread(ctx: ServiceContext, user: UUID, workspace: UUID) -> int:
    """The unread count: Redis first; on a miss one query, then cached unless a change
    committed meanwhile."""
    cached, generation = await read_unread_cache(ctx, user, workspace)
    if cached is not None:
        return cached
    async with ctx.database.connection() as conn:
        count = await store.unread_count(conn, user, workspace)
    await write_unread_cache(ctx, user, workspace, count, generation)
    return count


# --- read and delete --------------------------------------------------------------------


async def do_mark_read(ctx: ServiceContext, user: UUID, notification_id: UUID) -> NotificationOut:
    async with ctx.database.transaction() as tx:
        row = await store.mark_read(tx, notification_id, user)
        if row is None:
            raise NotFound(NOT_FOUND)
        if row.changed:
            frame = state_frame(
                "read", row.workspace_id, ReadOne(row.id, row.workspace_id, row.read_at)
            )

            async def announce() -> None:
                metrics_of(ctx).read.inc()
                await invalidate_unread(ctx, [(user, row.workspace_id)])
                await publish(ctx, [(user, frame)])

            tx.on_commit(announce)
    return notification_out(row)


async def do_mark_all_read(ctx: ServiceContext, user: UUID, workspace: UUID) -> MarkedAsRead:
    now = datetime.now(UTC)
    async with ctx.database.transaction() as tx:
        marked = await store.mark_all_read(tx, user, workspace)
        if marked:
            frame = state_frame("read-all", workspace, ReadAll(workspace, marked, now))

            async def announce() -> None:
                metrics_of(ctx).read.inc(marked)
                await invalidate_unread(ctx, [(user, workspace)])
                await publish(ctx, [(user, frame)])

            tx.on_commit(announce)
    return MarkedAsRead(marked)


async def do_delete(ctx: ServiceContext, user: UUID, notification_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        gone = await store.delete_notification(tx, notification_id, user)
        if gone is None:
            raise NotFound(NOT_FOUND)
        frame = state_frame(
            "deleted", gone.workspace_id, Deleted(notification_id, gone.workspace_id)
        )
        was_unread = gone.was_unread
        workspace = gone.workspace_id

        async def announce() -> None:
            metrics_of(ctx).deleted.inc()
            if was_unread:
                await invalidate_unread(ctx, [(user, workspace)])
            await publish(ctx, [(user, frame)])

        tx.on_commit(announce)
