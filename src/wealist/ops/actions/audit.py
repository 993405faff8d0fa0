"""The audit log: written in the transaction of the change it records, read by admins.

Append-only by construction: the service has no query that changes or removes an entry,
and the table's triggers refuse UPDATE, DELETE and TRUNCATE from anyone.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import NotFound, ValidationFailed
from wealist.ops import store
from wealist.ops.actions.common import (
    USER_AGENT_MAX,
    Requester,
    audit_out,
    decode_keyset,
    encode_cursor,
    parse_uuid,
)
from wealist.ops.rows import PortalUserRow
from wealist.ops.schemas import AuditLogOut
from wealist.ops.store import AuditEntry, AuditFilter

__all__ = ("ACTIONS", "RESOURCES", "AuditQuery", "get_entry", "list_entries", "record")

ACTIONS = frozenset({"create", "update", "delete", "login", "logout"})
RESOURCES = frozenset({"portal_user", "argocd_rbac", "feature_flag", "app_config"})
PAGE_MAX = 100
OFFSET_MAX = 100_000


async def record(
    conn: Conn,
    actor: PortalUserRow,
    who: Requester,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    details: str,
) -> UUID:
    """Append one entry (inside the caller's transaction)."""
    entry = AuditEntry(
        user_id=actor.id,
        user_email=actor.email,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        details=details,
        ip_address=who.ip_address[:45],
        user_agent=who.user_agent[:USER_AGENT_MAX],
    )
    return await store.insert_audit(conn, entry)


class AuditQuery:
    """The list's query parameters, checked (the original ignored bad values silently)."""

    def __init__(
        self,
        *,
        user_id: str | None,
        resource_type: str | None,
        action: str | None,
        start_time: str | None,
        end_time: str | None,
    ) -> None:
        if resource_type is not None and resource_type not in RESOURCES:
            raise ValidationFailed(f"resource_type must be one of {', '.join(sorted(RESOURCES))}")
        if action is not None and action not in ACTIONS:
            raise ValidationFailed(f"action must be one of {', '.join(sorted(ACTIONS))}")
        self.where = AuditFilter(
            user_id=parse_uuid(user_id, "user_id") if user_id else None,
            resource_type=resource_type,
            action=action,
            start=_instant(start_time, "start_time"),
            end=_instant(end_time, "end_time"),
        )


def _instant(raw: str | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{field} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{field} needs a time zone (e.g. Z)")
    return parsed


async def list_entries(
    ctx: ServiceContext, query: AuditQuery, *, page: int, limit: int, cursor: str | None
) -> tuple[list[AuditLogOut], int, str | None]:
    """A page of the log newest first, how many entries match, and the next page's cursor.

    ``page`` counts from 1 (an offset, as the portal pages); a ``cursor`` from a previous
    page continues after it instead, however long the log grows meanwhile.
    """
    after = decode_keyset(cursor)
    offset = 0 if cursor is not None else (page - 1) * limit
    if offset > OFFSET_MAX:
        raise ValidationFailed("page is too far back; use the cursor of the previous page")
    async with ctx.database.connection() as conn:
        rows = await store.list_audit(conn, query.where, after=after, limit=limit, offset=offset)
        total = await store.count_audit(conn, query.where)
    following = encode_cursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return [audit_out(r) for r in rows], total, following


async def get_entry(ctx: ServiceContext, entry_id: UUID) -> AuditLogOut:
    async with ctx.database.connection() as conn:
        row = await store.audit_by_id(conn, entry_id)
    if row is None:
        raise NotFound("audit log entry not found")
    return audit_out(row)
