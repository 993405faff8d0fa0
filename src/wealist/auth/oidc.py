"""OpenID Connect login (authorization code + PKCE S256), framework-free.

A login starts by storing a single-use ``state`` in Redis (with the ``nonce``, the PKCE
verifier, the frontend page to return to and a hash of the browser-binding cookie) for at
most ``oauth_state_ttl_s``; the callback takes it back with GETDEL, so a replayed or
foreign ``state`` finds nothing. The ID token is verified against the provider's JWKS:
RS256, ``iss``, ``aud``, ``exp`` and ``nonce``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import msgspec
import structlog
from redis.asyncio import Redis

from wealist.auth.settings import AuthSettings
from wealist.core.security import JwksKeySet

__all__ = ("IdentityClaims", "LoginState", "OidcClient", "OidcError", "Provider", "providers")

log = structlog.get_logger("wealist.auth.oidc")

GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
DISCOVERY_TTL_S = 3600.0


class OidcError(Exception):
    """A login that must not succeed; ``reason`` is safe to show (no secrets in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str

    @property
    def accepted_issuers(self) -> frozenset[str]:
        if self.issuer in GOOGLE_ISSUERS:
            return GOOGLE_ISSUERS  # Google's ID tokens use either form
        return frozenset({self.issuer})


def providers(settings: AuthSettings) -> dict[str, Provider]:
    """The configured providers: Google when it has a client id, plus ``oidc_providers``."""
    found: dict[str, Provider] = {}
    if settings.google_client_id:
        found["google"] = Provider(
            "google",
            settings.google_issuer.rstrip("/"),
            settings.google_client_id,
            settings.google_client_secret,
            "openid email profile",
        )
    for name, p in settings.oidc_providers.items():
        found[name] = Provider(name, p.issuer.rstrip("/"), p.client_id, p.client_secret, p.scopes)
    return found


class Discovery(msgspec.Struct, frozen=True):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class LoginState(msgspec.Struct, frozen=True):
    provider: str
    nonce: str
    verifier: str
    redirect: str
    binding: str  # sha256 of the browser-binding cookie


class IdentityClaims(msgspec.Struct, frozen=True):
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


class TokenResponse(msgspec.Struct):
    id_token: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _state_key(state: str) -> str:
    return f"auth:oauth:state:{digest(state)}"


class OidcClient:
    def __init__(self, settings: AuthSettings, http: httpx.AsyncClient, redis: Redis) -> None:
        self.providers = providers(settings)
        self._settings = settings
        self._http = http
        self._redis = redis
        self._discovered: dict[str, tuple[float, Discovery]] = {}
        self._keys: dict[str, JwksKeySet] = {}

    def callback_url(self, provider: str) -> str:
        return self._settings.callback_url.replace("{provider}", provider)

    def provider(self, name: str) -> Provider:
        found = self.providers.get(name)
        if found is None:
            raise OidcError("unknown_provider")
        return found

    async def discovery(self, provider: Provider) -> Discovery:
        cached = self._discovered.get(provider.name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        url = f"{provider.issuer}/.well-known/openid-configuration"
        try:
            response = await self._http.get(url, timeout=5.0)
            response.raise_for_status()
            found = msgspec.json.decode(response.content, type=Discovery)
        except (httpx.HTTPError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("oidc.discovery_failed", provider=provider.name, error=type(exc).__name__)
            raise OidcError("provider_unavailable") from exc
        if found.issuer.rstrip("/") not in provider.accepted_issuers | {provider.issuer}:
            raise OidcError("provider_misconfigured")
        self._discovered[provider.name] = (time.monotonic() + DISCOVERY_TTL_S, found)
        return found

    async def start(self, provider: Provider, redirect: str, binding: str) -> str:
        """Store a fresh login state; return the provider's authorization URL."""
        discovery = await self.discovery(provider)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        stored = LoginState(provider.name, nonce, verifier, redirect, digest(binding))
        await self._redis.set(
            _state_key(state), msgspec.json.encode(stored), ex=self._settings.oauth_state_ttl_s
        )
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": provider.client_id,
                "redirect_uri": self.callback_url(provider.name),
                "scope": provider.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in discovery.authorization_endpoint else "?"
        return f"{discovery.authorization_endpoint}{separator}{query}"

    async def take_state(self, state: str, provider: Provider, binding: str | None) -> LoginState:
        """The stored login for ``state``, removed so it can never be used again."""
        if not state or len(state) > 256:
            raise OidcError("invalid_state")
        raw = await self._redis.getdel(_state_key(state))
        if raw is None:
            raise OidcError("invalid_state")
        found = msgspec.json.decode(raw, type=LoginState)
        if found.provider != provider.name:
            raise OidcError("invalid_state")
        if binding is None or not hmac.compare_digest(found.binding, digest(binding)):
            raise OidcError("state_from_another_browser")
        return found

    async def identify(self, provider: Provider, code: str, login: LoginState) -> IdentityClaims:
        """Exchange ``code`` (with the PKCE verifier) and verify the ID token it yields."""
        discovery = await self.discovery(provider)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.callback_url(provider.name),
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "code_verifier": login.verifier,
        }
        try:
            response = await self._http.post(discovery.token_endpoint, data=form, timeout=10.0)
        except httpx.HTTPError as exc:
            log.warning(
                "oidc.token_exchange_failed", provider=provider.name, error=type(exc).__name__
            )
            raise OidcError("provider_unavailable") from exc
        if response.status_code != 200:
            log.info("oidc.code_rejected", provider=provider.name, status=response.status_code)
            raise OidcError("code_rejected")
        try:
            id_token = msgspec.json.decode(response.content, type=TokenResponse).id_token
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise OidcError("code_rejected") from exc
        claims = await self._verify(provider, discovery, id_token, login.nonce)
        email = claims.get("email")
        name = claims.get("name")
        return IdentityClaims(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            email_verified=claims.get("email_verified") in (True, "true"),
            name=name if isinstance(name, str) else "",
        )

    async def _verify(
        self, provider: Provider, discovery: Discovery, id_token: str, nonce: str
    ) -> dict[str, Any]:
        keys = self._keys.get(provider.name)
        if keys is None:
            keys = self._keys[provider.name] = JwksKeySet(discovery.jwks_uri, self._http)
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.DecodeError as exc:
            raise OidcError("invalid_id_token") from exc
        kid = header.get("kid")
        key = await keys.get(kid) if isinstance(kid, str) and kid else None
        if header.get("alg") != "RS256" or key is None:
            raise OidcError("invalid_id_token")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=provider.client_id,
                issuer=sorted(provider.accepted_issuers),
                leeway=30,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.InvalidAudienceError as exc:
            raise OidcError("wrong_audience") from exc
        except jwt.InvalidTokenError as exc:
            raise OidcError("invalid_id_token") from exc
        presented = claims.get("nonce")
        if not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
            raise OidcError("wrong_nonce")
        return claims
