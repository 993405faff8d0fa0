"""App configs and feature flags: clients read the active ones without signing in;
admins and PMs create and change them, admins delete them. Every change is audited in its
own transaction; audit details name the key, never the value (values may be secrets)."""

from __future__ import annotations

from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.errors import AlreadyExists, NotFound
from wealist.ops import store
from wealist.ops.actions import audit
from wealist.ops.actions.common import Requester, config_out
from wealist.ops.rows import PortalUserRow
from wealist.ops.schemas import CONFIG_KEY, AppConfigOut, CreateConfig, UpdateConfig

__all__ = (
    "active_values",
    "do_create",
    "do_delete",
    "do_update",
    "get_active",
    "list_configs",
)

CONFIGS_MAX = 1000
APP_CONFIG = "app_config"
CONFIG_NOT_FOUND = "config not found"


async def active_values(ctx: ServiceContext) -> dict[str, str]:
    """``GET /config/active``: every active config as ``{key: value}`` (one query)."""
    async with ctx.database.connection() as conn:
        rows = await store.active_configs(conn)
    return {r.key: r.value for r in rows}


async def get_active(ctx: ServiceContext, key: str) -> AppConfigOut:
    """One active config by key; an inactive or unknown key is 404 (drafts stay private)."""
    if not CONFIG_KEY.match(key):
        raise NotFound(CONFIG_NOT_FOUND)
    async with ctx.database.connection() as conn:
        row = await store.active_config_by_key(conn, key)
    if row is None:
        raise NotFound(CONFIG_NOT_FOUND)
    return config_out(row)


async def list_configs(ctx: ServiceContext) -> list[AppConfigOut]:
    """Every live config, active or not, by key."""
    async with ctx.database.connection() as conn:
        rows = await store.all_configs(conn, CONFIGS_MAX)
    return [config_out(r) for r in rows]


async def do_create(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, new: CreateConfig
) -> AppConfigOut:
    async with ctx.database.transaction() as tx:
        row = await store.insert_config(
            tx, key=new.key, value=new.value, description=new.description, by=me.id
        )
        if row is None:
            raise AlreadyExists(f"A config with key {new.key!r} already exists")
        await audit.record(
            tx,
            me,
            who,
            action="create",
            resource_type=APP_CONFIG,
            resource_id=str(row.id),
            details=f"Created config {row.key}",
        )
    return config_out(row)


async def do_update(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, config_id: UUID, change: UpdateConfig
) -> AppConfigOut:
    async with ctx.database.transaction() as tx:
        row = await store.update_config(
            tx,
            config_id,
            value=change.value,
            description=change.description,
            active=change.is_active,
            by=me.id,
        )
        if row is None:
            raise NotFound(CONFIG_NOT_FOUND)
        state = "" if change.is_active is None else f" (active: {str(row.is_active).lower()})"
        await audit.record(
            tx,
            me,
            who,
            action="update",
            resource_type=APP_CONFIG,
            resource_id=str(row.id),
            details=f"Updated config {row.key}{state}",
        )
    return config_out(row)


async def do_delete(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, config_id: UUID
) -> None:
    async with ctx.database.transaction() as tx:
        key = await store.delete_config(tx, config_id, me.id)
        if key is None:
            raise NotFound(CONFIG_NOT_FOUND)
        await audit.record(
            tx,
            me,
            who,
            action="delete",
            resource_type=APP_CONFIG,
            resource_id=str(config_id),
            details=f"Deleted config {key}",
        )
