"""HTTP routes of the auth service (thin: parse, call one action, shape the reply)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from wealist.auth import actions
from wealist.auth.hooks import auth_of
from wealist.auth.schemas import (
    Credentials,
    LogoutReply,
    RefreshRequest,
    SessionOut,
    SignupRequest,
    SocketTicket,
    TestStatus,
    TestTokenRequest,
    TokenPair,
    ValidateReply,
    ValidateRequest,
)
from wealist.auth.settings import AuthSettings
from wealist.core.deps import Caller, Ctx
from wealist.core.health import Readiness, readiness
from wealist.core.ratelimit import client_ip
from wealist.core.security import bearer_token
from wealist.core.settings import CoreSettings, SettingsError

__all__ = ("routes",)

NO_STORE = {"Cache-Control": "no-store"}  # token responses must never be cached
BINDING_COOKIE = "wealist_oauth"  # ties an OAuth state to the browser that started it


def _ip(request: Request[Any, Any, Any], settings: AuthSettings) -> str:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


def _ua(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("user-agent", "")


def _settings(ctx: Ctx) -> AuthSettings:
    return auth_of(ctx).settings


def _tokens(pair: TokenPair, status: int = 200) -> Response[TokenPair]:
    return Response(pair, status_code=status, headers=NO_STORE)


@post("/api/auth/refresh", status_code=200)
async def refresh(ctx: Ctx, data: JSONBody[RefreshRequest]) -> Response[TokenPair]:
    return _tokens(await actions.do_refresh(auth_of(ctx), data.refresh_token))


@post("/api/auth/logout", status_code=200)
async def logout(ctx: Ctx, caller: Caller) -> LogoutReply:
    await actions.do_logout(auth_of(ctx), caller)
    return LogoutReply()


@post("/api/auth/socket-ticket", status_code=201)
async def socket_ticket(
    ctx: Ctx, request: Request[Any, Any, Any], caller: Caller
) -> Response[SocketTicket]:
    """A ``?ticket=`` for one WebSocket or SSE URL, so the access token stays out of URLs
    (and so out of logs and histories); single use, valid ``socket_ticket_ttl_s``."""
    token = bearer_token(request.headers.get("authorization"))
    assert token is not None  # the caller was verified from it
    ttl = _settings(ctx).socket_ticket_ttl_s
    ticket = await ctx.tickets.issue(token, ttl)
    return Response(SocketTicket(ticket, ttl), status_code=201, headers=NO_STORE)


@post("/api/auth/validate", status_code=200)
async def validate(ctx: Ctx, data: JSONBody[ValidateRequest]) -> ValidateReply:
    return await actions.do_validate(auth_of(ctx), data.token)


@post("/api/auth/signup", status_code=201)
async def signup(
    ctx: Ctx, request: Request[Any, Any, Any], data: JSONBody[SignupRequest]
) -> Response[TokenPair]:
    auth = auth_of(ctx)
    pair = await actions.do_signup(
        auth,
        email=data.email,
        password=data.password,
        name=data.name,
        client_ip=_ip(request, auth.settings),
        user_agent=_ua(request),
    )
    return _tokens(pair, 201)


@post("/api/auth/login", status_code=200)
async def login(
    ctx: Ctx, request: Request[Any, Any, Any], data: JSONBody[Credentials]
) -> Response[TokenPair]:
    auth = auth_of(ctx)
    pair = await actions.do_login(
        auth, data.email, data.password, _ip(request, auth.settings), _ua(request)
    )
    return _tokens(pair)


@get("/api/auth/sessions")
async def sessions(ctx: Ctx, caller: Caller) -> list[SessionOut]:
    return await actions.list_sessions(auth_of(ctx), caller)


@delete("/api/auth/sessions/{session_id:str}", status_code=204)
async def end_session(ctx: Ctx, caller: Caller, session_id: FromPath[str]) -> None:
    await actions.do_revoke_session(auth_of(ctx), caller, session_id)


@post("/api/auth/sessions/revoke-others", status_code=200)
async def end_other_sessions(ctx: Ctx, caller: Caller) -> dict[str, int]:
    return {"revoked": await actions.do_revoke_other_sessions(auth_of(ctx), caller)}


@get("/.well-known/jwks.json", cache=False)
async def jwks(ctx: Ctx) -> Response[dict[str, list[dict[str, str]]]]:
    # Verifiers may cache it for five minutes (they refetch early on an unknown kid).
    return Response(auth_of(ctx).keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@get("/.well-known/openid-configuration", cache=False)
async def openid_configuration(ctx: Ctx) -> dict[str, Any]:
    """Only what exists: the issuer and its keys (tokens come from the routes above)."""
    settings = _settings(ctx)
    return {
        "issuer": settings.jwt_issuer,
        "jwks_uri": f"{settings.advertised_url}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "iat", "exp", "jti", "type", "sid", "email"],
    }


@get("/oauth2/authorization/{provider:str}", cache=False, status_code=302)
async def oauth_start(
    ctx: Ctx, provider: FromPath[str], redirect_uri: FromQuery[str | None] = None
) -> Redirect:
    auth = auth_of(ctx)
    binding = secrets.token_urlsafe(32)
    url = await actions.do_oauth_start(auth, provider, redirect_uri, binding)
    cookie = Cookie(
        key=BINDING_COOKIE,
        value=binding,
        max_age=auth.settings.oauth_state_ttl_s,
        path="/",
        httponly=True,
        secure=auth.settings.cookie_secure,
        samesite="lax",  # sent on the provider's top-level redirect back to us
    )
    return Redirect(url, status_code=302, cookies=[cookie], headers=NO_STORE)


@get("/oauth2/callback/{provider:str}", cache=False, status_code=302)
async def oauth_callback(
    *,
    ctx: Ctx,
    request: Request[Any, Any, Any],
    provider: FromPath[str],
    code: FromQuery[str | None] = None,
    login_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Redirect:
    url = await actions.do_oauth_callback(
        auth_of(ctx),
        provider=provider,
        code=code,
        state=login_state,
        error=error,
        binding=request.cookies.get(BINDING_COOKIE),
        user_agent=_ua(request),
    )
    # The binding cookie is left to expire: clearing it on a forged callback would let an
    # attacker break the real login that is still under way in this browser.
    headers = {**NO_STORE, "Referrer-Policy": "no-referrer"}
    return Redirect(url, status_code=302, headers=headers)


@get("/ready", cache=False, include_in_schema=False)
async def ready(ctx: Ctx) -> Response[Readiness]:
    """The original auth service's readiness path (the kernel adds /health/*)."""
    result = await readiness([ctx])
    return Response(result, status_code=200 if result.status == "ready" else 503)


@post("/api/test/token", status_code=200)
async def test_token(
    ctx: Ctx, request: Request[Any, Any, Any], data: JSONBody[TestTokenRequest]
) -> Response[TokenPair]:
    pair = await actions.do_test_token(auth_of(ctx), data.user_id, data.email, _ua(request))
    return _tokens(pair)


@get("/api/test/status")
async def test_status() -> TestStatus:
    return TestStatus()


ROUTES: list[ControllerRouterHandler] = [
    refresh,
    logout,
    socket_ticket,
    validate,
    signup,
    login,
    sessions,
    end_session,
    end_other_sessions,
    jwks,
    openid_configuration,
    oauth_start,
    oauth_callback,
    ready,
]
TEST_ROUTES: list[ControllerRouterHandler] = [test_token, test_status]


def routes(settings: CoreSettings) -> list[ControllerRouterHandler]:
    """The routes; the test-token ones only when enabled, and never in production."""
    if isinstance(settings, AuthSettings) and settings.test_auth_enabled:
        if settings.is_production:
            raise SettingsError(
                "WEALIST_AUTH_TEST_AUTH_ENABLED must not be set with a production profile: "
                "/api/test/token would mint tokens for any user."
            )
        return ROUTES + TEST_ROUTES
    return ROUTES
