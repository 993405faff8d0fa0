"""App configs: the public reads clients make, and the admin/PM management routes."""

from __future__ import annotations

from litestar import delete, get, post, put
from litestar.params import FromPath, JSONBody

from wealist.core.deps import Ctx
from wealist.ops.actions import configs
from wealist.ops.actions.common import parse_uuid
from wealist.ops.api.deps import ADMIN, MANAGERS, Me, Who
from wealist.ops.schemas import AppConfigOut, CreateConfig, Ok, UpdateConfig

__all__ = ("ROUTES",)


@get("/config/active")
async def active(ctx: Ctx) -> Ok[dict[str, str]]:
    """Every active config as ``{key: value}``; no sign-in needed."""
    return Ok(await configs.active_values(ctx))


@get("/config/{key:str}")
async def by_key(ctx: Ctx, key: FromPath[str]) -> Ok[AppConfigOut]:
    """One active config; inactive ones are not public (404)."""
    return Ok(await configs.get_active(ctx, key))


async def _list(ctx: Ctx, me: Me) -> Ok[list[AppConfigOut]]:
    return Ok(await configs.list_configs(ctx))


async def _create(ctx: Ctx, me: Me, who: Who, data: JSONBody[CreateConfig]) -> Ok[AppConfigOut]:
    return Ok(await configs.do_create(ctx, me, who, data))


async def _update(
    ctx: Ctx, me: Me, who: Who, config_id: FromPath[str], data: JSONBody[UpdateConfig]
) -> Ok[AppConfigOut]:
    return Ok(await configs.do_update(ctx, me, who, parse_uuid(config_id, "id"), data))


@delete("/admin/config/{config_id:str}", opt=ADMIN, status_code=204)
async def remove(ctx: Ctx, me: Me, who: Who, config_id: FromPath[str]) -> None:
    await configs.do_delete(ctx, me, who, parse_uuid(config_id, "id"))


# The same handlers under /admin (admins) and /pm (admins and PMs), as in the original.
ROUTES = [
    active,
    by_key,
    get("/admin/config", opt=ADMIN, name="admin_list_configs")(_list),
    post("/admin/config", opt=ADMIN, status_code=201, name="admin_create_config")(_create),
    put("/admin/config/{config_id:str}", opt=ADMIN, name="admin_update_config")(_update),
    remove,
    get("/pm/config", opt=MANAGERS, name="pm_list_configs")(_list),
    post("/pm/config", opt=MANAGERS, status_code=201, name="pm_create_config")(_create),
    put("/pm/config/{config_id:str}", opt=MANAGERS, name="pm_update_config")(_update),
]
