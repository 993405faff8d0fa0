"""What every ops route may ask for besides ``ctx`` and ``caller``: ``who`` (the caller
and where the request came from, for the audit log) and ``me`` (the caller's portal user,
checked against the roles the route declares in ``opt={"roles": ...}``)."""

from __future__ import annotations

import ipaddress
from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency

from wealist.core.deps import Caller, Ctx
from wealist.ops.actions import portal
from wealist.ops.actions.common import Requester, ops_settings
from wealist.ops.rows import PortalUserRow

__all__ = ("ADMIN", "ANY_ROLE", "MANAGERS", "Me", "Who", "provide_me", "provide_who")

ADMIN = {"roles": portal.ADMIN}
MANAGERS = {"roles": portal.MANAGERS}
ANY_ROLE = {"roles": portal.ANY_ROLE}

Who: TypeAlias = NamedDependency[Requester]
Me: TypeAlias = NamedDependency[PortalUserRow]


def _client_ip(request: Request[Any, Any, Any], trusted: list[str]) -> str:
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-real-ip", "")
    if peer in trusted and forwarded:
        try:
            return str(ipaddress.ip_address(forwarded.strip()))
        except ValueError:
            return peer
    return peer


async def provide_who(request: Request[Any, Any, Any], ctx: Ctx, caller: Caller) -> Requester:
    trusted = ops_settings(ctx).trusted_proxies
    return Requester(caller, _client_ip(request, trusted), request.headers.get("user-agent", ""))


async def provide_me(request: Request[Any, Any, Any], ctx: Ctx, who: Who) -> PortalUserRow:
    roles = request.route_handler.opt.get("roles")
    if not isinstance(roles, frozenset):  # every route asking for `me` declares its roles
        raise TypeError(f"{request.scope.get('path_template')}: no roles declared")
    return await portal.access_portal(ctx, who, roles)
