"""The auth service as data: what ``wealist serve auth`` runs."""

from __future__ import annotations

from wealist.auth.settings import AuthSettings
from wealist.core.spec import ServiceSpec

__all__ = ("SERVICE",)

SERVICE = ServiceSpec(
    name="auth",
    port=8080,
    summary="tokens, JWKS, OAuth2/OIDC login, password accounts, sessions",
    routes="wealist.auth.api:routes",
    fast_routes="wealist.auth.fast:FAST_ROUTES",
    settings=AuthSettings,
    database="auth_db",
    hooks=("wealist.auth.hooks:auth_runtime",),
    health_prefixes=("",),
)
