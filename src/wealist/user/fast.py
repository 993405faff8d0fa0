"""The user service's fast-lane routes (core.fastlane): the same actions as ``api``."""

from __future__ import annotations

from wealist.core.fastlane import Answer, FastCall, FastRoute, json_answer
from wealist.user.actions import workspaces
from wealist.user.actions.common import caller_id

__all__ = ("FAST_ROUTES",)


async def my_workspaces(call: FastCall) -> Answer:
    """``GET /api/workspaces/all``: every page of the frontend asks for it first."""
    me = caller_id(await call.caller())
    return json_answer(await workspaces.list_my_workspaces(call.ctx, me))


FAST_ROUTES = [FastRoute("GET", "/api/workspaces/all", my_workspaces)]
