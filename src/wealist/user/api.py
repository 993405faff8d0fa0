"""HTTP routes of the user service (thin: parse, call one action, shape the reply)."""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from wealist.core.deps import Ctx, Internal
from wealist.user import actions
from wealist.user.schemas import OAuthLogin, OAuthLoginResult, UserExists

__all__ = ("ROUTES",)


@post("/api/internal/oauth/login", status_code=200)
async def oauth_login(ctx: Ctx, internal: Internal, data: JSONBody[OAuthLogin]) -> OAuthLoginResult:
    """Find or create the user for a verified email (called by the auth service)."""
    return OAuthLoginResult(user_id=await actions.do_oauth_login(ctx, data))


@get("/api/internal/users/{userId:str}/exists")
async def user_exists(ctx: Ctx, internal: Internal, userId: FromPath[str]) -> UserExists:  # noqa: N803
    """Whether the user exists and is active."""
    user_id = actions.parse_user_id(userId)
    return UserExists(exists=await actions.check_user_exists(ctx, user_id))


ROUTES: list[ControllerRouterHandler] = [oauth_login, user_exists]
