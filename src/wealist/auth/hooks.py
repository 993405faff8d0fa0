"""Startup of the auth service: keys, the actions' dependencies, the revocation loader
(its verifier shares the process's pushed revocation list, see ``core.security``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from wealist.auth.actions import Auth
from wealist.auth.keys import load_keyring
from wealist.auth.oidc import OidcClient
from wealist.auth.revocations import Revocations
from wealist.auth.settings import AuthSettings
from wealist.auth.throttle import LoginThrottle
from wealist.auth.tokens import Minter
from wealist.core.context import ServiceContext
from wealist.core.security import StaticKeySet, TokenVerifier

__all__ = ("auth_of", "auth_runtime")

STATE_KEY = "auth"


def auth_of(ctx: ServiceContext) -> Auth:
    found: Auth = ctx.state[STATE_KEY]
    return found


def build_auth(ctx: ServiceContext) -> Auth:
    settings = ctx.settings
    assert isinstance(settings, AuthSettings)
    keys = load_keyring(settings)
    # The auth service verifies with its own keys, never through its JWKS over HTTP, and
    # against the process's revocation list, which its own revocations reach at commit.
    ctx.verifier = TokenVerifier(
        StaticKeySet(keys.public),
        ctx.revocations,
        settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return Auth(
        settings=settings,
        db=ctx.database,
        redis=ctx.redis,
        keys=keys,
        minter=Minter(
            keys, settings.jwt_issuer, settings.jwt_audience, settings.access_token_ttl_s
        ),
        verifier=ctx.verifier,
        revocations=Revocations(
            ctx.database, ctx.redis, settings.access_token_ttl_s, local=ctx.revocations
        ),
        throttle=LoginThrottle(
            ctx.redis,
            ip_limit_per_min=settings.login_ip_limit_per_min,
            signup_limit_per_min=settings.signup_ip_limit_per_min,
            free_failures=settings.login_account_free_failures,
            max_delay_s=settings.login_account_max_delay_s,
        ),
        oidc=OidcClient(settings, ctx.runtime.http, ctx.redis),
        internal=ctx.internal,
    )


async def auth_runtime(ctx: ServiceContext) -> AsyncIterator[None]:
    auth = ctx.state[STATE_KEY] = build_auth(ctx)
    stop = asyncio.Event()
    loader = asyncio.create_task(auth.revocations.keep_loaded(stop), name="auth-revocations")
    try:
        yield
    finally:
        stop.set()
        await loader
