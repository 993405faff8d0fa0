"""The noti service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from wealist.core.db import Conn, Queries, load_queries
from wealist.noti.rows import (
    DigestItemRow,
    NotificationRow,
    PreferenceRow,
    PurgedRow,
    ReadRow,
    RemovedRow,
    ReplayRow,
    StreamHeadRow,
    UserHeadRow,
)


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.noti.queries")


# --- notifications ----------------------------------------------------------------------


async def claim_events(conn: Conn, event_ids: Sequence[UUID]) -> set[UUID]:
    found = await conn.fetch_column(queries().claim_events, {"ids": list(event_ids)})
    return set(found)


async def insert_notifications(conn: Conn, columns: dict[str, list[Any]]) -> list[NotificationRow]:
    """``columns``: one list per parameter of ``insert_notifications``, item by item."""
    return await conn.fetch_all(queries().insert_notifications, columns, NotificationRow)


async def notifications_by_events(conn: Conn, event_ids: Sequence[UUID]) -> list[NotificationRow]:
    params = {"ids": list(event_ids)}
    return await conn.fetch_all(queries().notifications_by_events, params, NotificationRow)


def _list_params(user: UUID, workspace: UUID, unread_only: bool) -> dict[str, Any]:
    return {"user": user, "workspace": workspace, "unread_only": unread_only}


async def count_listed(conn: Conn, user: UUID, workspace: UUID, unread_only: bool) -> int:
    params = _list_params(user, workspace, unread_only)
    return int(await conn.fetch_val(queries().count_listed, params))


async def list_page(
    conn: Conn, user: UUID, workspace: UUID, *, unread_only: bool, limit: int, offset: int
) -> list[NotificationRow]:
    params = {**_list_params(user, workspace, unread_only), "limit": limit, "offset": offset}
    return await conn.fetch_all(queries().list_page, params, NotificationRow)


async def list_after(
    conn: Conn,
    user: UUID,
    workspace: UUID,
    *,
    unread_only: bool,
    limit: int,
    before: tuple[datetime, UUID],
) -> list[NotificationRow]:
    params = {
        **_list_params(user, workspace, unread_only),
        "limit": limit,
        "before_at": before[0],
        "before_id": before[1],
    }
    return await conn.fetch_all(queries().list_after, params, NotificationRow)


async def unread_count(conn: Conn, user: UUID, workspace: UUID) -> int:
    params = {"user": user, "workspace": workspace}
    return int(await conn.fetch_val(queries().unread_count, params))


async def mark_read(conn: Conn, notification_id: UUID, user: UUID) -> ReadRow | None:
    params = {"id": notification_id, "user": user}
    return await conn.fetch_one(queries().mark_read, params, ReadRow)


async def mark_all_read(conn: Conn, user: UUID, workspace: UUID) -> int:
    return await conn.execute(queries().mark_all_read, {"user": user, "workspace": workspace})


async def delete_notification(conn: Conn, notification_id: UUID, user: UUID) -> RemovedRow | None:
    params = {"id": notification_id, "user": user}
    return await conn.fetch_one(queries().delete_notification, params, RemovedRow)


# --- streams ----------------------------------------------------------------------------


async def stream_head(conn: Conn, user: UUID) -> StreamHeadRow:
    found = await conn.fetch_one(queries().stream_head, {"user": user}, StreamHeadRow)
    return found or StreamHeadRow(0, 0)


async def stream_heads(conn: Conn, users: list[UUID]) -> dict[UUID, int]:
    rows = await conn.fetch_all(queries().stream_heads, {"users": users}, UserHeadRow)
    return {row.user_id: row.last_seq for row in rows}


async def replay(
    conn: Conn, user: UUID, after: int, workspace: UUID | None, limit: int
) -> list[ReplayRow]:
    params = {"user": user, "after": after, "workspace": workspace, "limit": limit}
    return await conn.fetch_all(queries().replay, params, ReplayRow)


# --- preferences ------------------------------------------------------------------------


async def preferences_in_scope(
    conn: Conn, user: UUID, workspace: UUID | None
) -> list[PreferenceRow]:
    params = {"user": user, "workspace": workspace}
    return await conn.fetch_all(queries().preferences_in_scope, params, PreferenceRow)


async def add_preference_rows(
    conn: Conn, user: UUID, workspace: UUID | None, types: list[str]
) -> None:
    params = {"user": user, "workspace": workspace, "types": types}
    await conn.execute(queries().add_preference_rows, params)


async def update_preferences(
    conn: Conn, user: UUID, workspace: UUID | None, changes: dict[str, list[Any]]
) -> None:
    """``changes``: ``types``, ``set_in_app``, ``in_app``, ``set_email``, ``email`` lists."""
    await conn.execute(
        queries().update_preferences, {"user": user, "workspace": workspace, **changes}
    )


async def get_recipient(conn: Conn, user: UUID) -> str | None:
    found: str | None = await conn.fetch_val(queries().get_recipient, {"user": user})
    return found


async def save_recipient(conn: Conn, user: UUID, email: str) -> None:
    await conn.execute(queries().save_recipient, {"user": user, "email": email})


# --- digests ----------------------------------------------------------------------------


async def due_digests(conn: Conn, window_s: float, limit: int) -> list[UUID]:
    params = {"window_s": window_s, "limit": limit}
    return list(await conn.fetch_column(queries().due_digests, params))


async def claim_digest(conn: Conn, user: UUID, limit: int) -> list[DigestItemRow]:
    params = {"user": user, "limit": limit}
    return await conn.fetch_all(queries().claim_digest, params, DigestItemRow)


async def finish_digest(conn: Conn, ids: list[UUID], sent: list[UUID]) -> None:
    await conn.execute(queries().finish_digest, {"ids": ids, "sent": sent})


# --- retention --------------------------------------------------------------------------


async def try_retention_lock(conn: Conn) -> bool:
    return bool(await conn.fetch_val(queries().try_retention_lock))


async def purge_old(conn: Conn, days: int, limit: int) -> list[PurgedRow]:
    """Per user of one deleted batch: the highest deleted seq and how many rows went."""
    params = {"days": days, "limit": limit}
    return await conn.fetch_all(queries().purge_old, params, PurgedRow)


async def mark_purged(conn: Conn, users: list[UUID], seqs: list[int]) -> None:
    await conn.fetch_column(queries().lock_streams, {"users": users})
    await conn.execute(queries().mark_purged, {"users": users, "seqs": seqs})


async def prune_inbox(conn: Conn, days: int, limit: int) -> int:
    return await conn.execute(queries().prune_inbox, {"days": days, "limit": limit})


# --- workspace events -------------------------------------------------------------------


async def delete_workspace_notifications(conn: Conn, workspace: UUID) -> list[UUID]:
    params = {"workspace": workspace}
    return list(await conn.fetch_column(queries().delete_workspace_notifications, params))


async def delete_member_notifications(
    conn: Conn, workspace: UUID, user: UUID, before: datetime
) -> int:
    params = {"workspace": workspace, "user": user, "before": before}
    return await conn.execute(queries().delete_member_notifications, params)
