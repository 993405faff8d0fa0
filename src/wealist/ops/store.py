"""The ops service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from uuid import UUID

import msgspec

from wealist.core.db import Conn, Queries, load_queries
from wealist.ops.rows import AuditRow, ConfigRow, PortalUserRow

__all__ = ("AuditEntry", "AuditFilter", "Keyset")


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.ops.queries")


class Keyset(msgspec.Struct, frozen=True):
    """A position in a newest-first list: rows strictly before (at, id) come next."""

    at: datetime
    id: UUID


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """What one audit row records."""

    user_id: UUID
    user_email: str
    action: str
    resource_type: str
    resource_id: str
    details: str = ""
    ip_address: str = ""
    user_agent: str = ""


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID | None = None
    resource_type: str | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def params(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "resource_type": self.resource_type,
            "action": self.action,
            "start": self.start,
            "end": self.end,
        }


class _PreviousLogin(msgspec.Struct, frozen=True):
    previous_login_at: datetime | None


# --- portal users -----------------------------------------------------------------------


async def user_by_email(conn: Conn, email: str) -> PortalUserRow | None:
    return await conn.fetch_one(queries().user_by_email, {"email": email}, PortalUserRow)


async def user_by_id(conn: Conn, user_id: UUID) -> PortalUserRow | None:
    return await conn.fetch_one(queries().user_by_id, {"id": user_id}, PortalUserRow)


async def insert_user(
    conn: Conn, *, email: str, role: str, invited_by: UUID | None
) -> PortalUserRow | None:
    """The new user, or None when the email already has one."""
    params = {"id": uuid.uuid4(), "email": email, "role": role, "invited_by": invited_by}
    return await conn.fetch_one(queries().insert_user, params, PortalUserRow)


async def bind_user(conn: Conn, portal_id: UUID, user_id: UUID) -> bool:
    return await conn.execute(queries().bind_user, {"id": portal_id, "user_id": user_id}) == 1


async def record_login(conn: Conn, portal_id: UUID) -> bool:
    """Stamp a sign-in; True when it is the user's first."""
    row = await conn.fetch_one(queries().record_login, {"id": portal_id}, _PreviousLogin)
    return row is not None and row.previous_login_at is None


async def list_users(conn: Conn, after: Keyset, limit: int) -> list[PortalUserRow]:
    params = {"at": after.at, "after": after.id, "limit": limit}
    return await conn.fetch_all(queries().list_users, params, PortalUserRow)


async def lock_active_admins(conn: Conn) -> list[UUID]:
    return list(await conn.fetch_column(queries().lock_active_admins))


async def lock_user(conn: Conn, portal_id: UUID) -> PortalUserRow | None:
    return await conn.fetch_one(queries().lock_user, {"id": portal_id}, PortalUserRow)


async def set_role(conn: Conn, portal_id: UUID, role: str) -> None:
    await conn.execute(queries().set_role, {"id": portal_id, "role": role})


async def set_active(conn: Conn, portal_id: UUID, active: bool) -> None:
    await conn.execute(queries().set_active, {"id": portal_id, "active": active})


# --- audit log --------------------------------------------------------------------------


async def insert_audit(conn: Conn, entry: AuditEntry) -> UUID:
    entry_id = uuid.uuid4()
    params = {
        "id": entry_id,
        "user_id": entry.user_id,
        "user_email": entry.user_email,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "details": entry.details,
        "ip": entry.ip_address,
        "agent": entry.user_agent,
    }
    await conn.execute(queries().insert_audit, params)
    return entry_id


async def audit_by_id(conn: Conn, entry_id: UUID) -> AuditRow | None:
    return await conn.fetch_one(queries().audit_by_id, {"id": entry_id}, AuditRow)


async def list_audit(
    conn: Conn, where: AuditFilter, *, after: Keyset, limit: int, offset: int
) -> list[AuditRow]:
    params = {**where.params(), "at": after.at, "after": after.id, "limit": limit}
    params["offset"] = offset
    return await conn.fetch_all(queries().list_audit, params, AuditRow)


async def count_audit(conn: Conn, where: AuditFilter) -> int:
    return int(await conn.fetch_val(queries().count_audit, where.params()))


# --- app configs ------------------------------------------------------------------------


async def active_configs(conn: Conn) -> list[ConfigRow]:
    return await conn.fetch_all(queries().active_configs, None, ConfigRow)


async def all_configs(conn: Conn, limit: int) -> list[ConfigRow]:
    return await conn.fetch_all(queries().all_configs, {"limit": limit}, ConfigRow)


async def active_config_by_key(conn: Conn, key: str) -> ConfigRow | None:
    return await conn.fetch_one(queries().active_config_by_key, {"key": key}, ConfigRow)


async def insert_config(
    conn: Conn, *, key: str, value: str, description: str, by: UUID
) -> ConfigRow | None:
    """The new config, or None when the key is taken."""
    params = {"id": uuid.uuid4(), "key": key, "value": value, "description": description}
    params["by"] = by
    return await conn.fetch_one(queries().insert_config, params, ConfigRow)


async def update_config(
    conn: Conn,
    config_id: UUID,
    *,
    value: str,
    description: str | None,
    active: bool | None,
    by: UUID,
) -> ConfigRow | None:
    params = {
        "id": config_id,
        "value": value,
        "description": description,
        "active": active,
        "by": by,
    }
    return await conn.fetch_one(queries().update_config, params, ConfigRow)


async def delete_config(conn: Conn, config_id: UUID, by: UUID) -> str | None:
    """The deleted key, or None when there was no live config with that id."""
    found = await conn.fetch_val(queries().delete_config, {"id": config_id, "by": by})
    return None if found is None else str(found)
