"""Access-token verification done locally by every service.

RS256 only. Keys come from the auth service's JWKS, cached by ``kid``; an unknown ``kid``
triggers at most one refetch per interval. ``iss``, ``aud``, ``exp`` and ``type == "access"``
are checked, and a revoked ``jti`` or session (``sid``) is rejected through Redis. When
revocation cannot be checked (Redis down, or emptied and not yet reloaded by auth) the
token is refused (fail closed): a logged-out token must never work again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from typing import Any, Protocol

import httpx
import jwt
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from redis.asyncio import Redis

from wealist.contracts.keys import REVOCATIONS_LOADED, revoked_jti, revoked_session
from wealist.core.errors import TokenReason, TokenRejected

__all__ = (
    "JwksKeySet",
    "KeySet",
    "Principal",
    "RedisRevocations",
    "RevocationList",
    "RevocationsNotLoadedError",
    "StaticKeySet",
    "TokenVerifier",
    "bearer_token",
)

log = structlog.get_logger("wealist.security")

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
DEFAULT_AUDIENCE = "wealist-api"
MAX_TOKEN_BYTES = 8192


class Principal(msgspec.Struct, frozen=True, gc=False):
    """The verified caller of a request."""

    user_id: str
    jti: str
    expires_at: int
    email: str | None = None
    session_id: str | None = None  # the refresh family the token was issued under


class KeySet(Protocol):
    async def get(self, kid: str) -> RSAPublicKey | None: ...


class RevocationList(Protocol):
    async def is_revoked(self, principal: Principal) -> bool:
        """True if the token or its session is revoked; raises when that cannot be known."""
        ...


class RevocationsNotLoadedError(RuntimeError):
    """The revocation list is not loaded (Redis lost it): nothing can be accepted."""


class StaticKeySet:
    """Keys known in-process (the auth service's own, or a test issuer's)."""

    def __init__(self, keys: dict[str, RSAPublicKey]) -> None:
        self._keys = dict(keys)

    async def get(self, kid: str) -> RSAPublicKey | None:
        return self._keys.get(kid)


class JwksKeySet:
    """Public keys fetched from a JWKS URL, cached by ``kid``.

    A miss refetches the document, at most once per ``refetch_interval`` seconds (a failed
    fetch may be retried after one second), so a flood of made-up ``kid`` values cannot
    turn into a flood of requests to the auth service. The document is also refetched
    once it is ``max_age`` old, so a key the auth service retired stops verifying; if that
    fetch fails the cached keys stay in use.
    """

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        refetch_interval: float = 30.0,
        max_age: float = 300.0,
    ) -> None:
        self.url = url
        self._client = client
        self._interval = refetch_interval
        self._max_age = max_age
        self._keys: dict[str, RSAPublicKey] = {}
        self._next_fetch = 0.0
        self._stale_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self, kid: str) -> RSAPublicKey | None:
        key = self._keys.get(kid)
        if key is not None and (time.monotonic() < self._stale_at or self._lock.locked()):
            return key  # fresh, or being refreshed by another request: do not wait for it
        async with self._lock:
            now = time.monotonic()
            due = kid not in self._keys or now >= self._stale_at
            if due and now >= self._next_fetch:
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self.fetches += 1
        try:
            response = await self._client.get(self.url, timeout=5.0)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("security.jwks_fetch_failed", url=self.url, error=str(exc))
            self._next_fetch = time.monotonic() + 1.0
            return
        self._keys = parse_jwks(document)
        self._next_fetch = time.monotonic() + self._interval
        self._stale_at = time.monotonic() + self._max_age


def parse_jwks(document: Any) -> dict[str, RSAPublicKey]:
    """RSA signing keys of a JWKS document; anything else in it is ignored."""
    keys: dict[str, RSAPublicKey] = {}
    for jwk in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = RSAAlgorithm.from_jwk(jwk)
        except (jwt.InvalidKeyError, ValueError, KeyError):
            continue
        if isinstance(key, RSAPublicKey):
            keys[str(jwk["kid"])] = key
    return keys


class RedisRevocations:
    """Revocations written by the auth service; errors propagate (fail closed).

    One round trip: the "loaded" marker, the token's ``jti`` and its session.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def is_revoked(self, principal: Principal) -> bool:
        keys = [REVOCATIONS_LOADED, revoked_jti(principal.jti)]
        if principal.session_id:
            keys.append(revoked_session(principal.session_id))
        loaded, *revoked = await self._redis.mget(keys)
        if loaded is None:
            raise RevocationsNotLoadedError
        return any(value is not None for value in revoked)


class TokenVerifier:
    """Turns a bearer token into a :class:`Principal` or raises :class:`TokenRejected`."""

    def __init__(
        self,
        keys: KeySet,
        revocations: RevocationList,
        issuer: str,
        *,
        audience: str = DEFAULT_AUDIENCE,
        leeway: float = 5.0,
        cache_size: int = 4096,
    ) -> None:
        self._keys = keys
        self._revocations = revocations
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        # Signature checks cost ~50 µs; a verified token is remembered until it expires.
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise TokenRejected(TokenReason.MISSING)
        principal = self._verified.get(token)
        if principal is None or principal.expires_at + self._leeway <= time.time():
            principal = await self._verify_signed(token)
            self._remember(token, principal)
        try:
            revoked = await self._revocations.is_revoked(principal)
        except Exception as exc:
            # Whatever stopped the check (Redis down or emptied, or a connection Redis
            # closed under uvloop, which raises RuntimeError, not a RedisError), the
            # token is refused: fail closed with a 401, never a 500.
            log.warning("security.revocation_unavailable", error=type(exc).__name__)
            raise TokenRejected(TokenReason.UNVERIFIABLE) from exc
        if revoked:
            raise TokenRejected(TokenReason.REVOKED)
        return principal

    def _remember(self, token: str, principal: Principal) -> None:
        self._verified[token] = principal
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)

    async def _verify_signed(self, token: str) -> Principal:
        claims = await self.claims(token, "access")
        email, sid = claims.get("email"), claims.get("sid")
        return Principal(
            user_id=claims["sub"],
            jti=claims["jti"],
            expires_at=int(claims["exp"]),
            email=email if isinstance(email, str) else None,
            session_id=sid if isinstance(sid, str) and sid else None,
        )

    async def claims(self, token: str, token_type: str) -> dict[str, Any]:
        """The claims of a token of ``token_type`` whose signature, ``iss``, ``aud`` and
        ``exp`` hold.

        Revocation is not checked here; ``sub`` is a UUID and ``jti`` a non-empty string.
        """
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenRejected(TokenReason.MALFORMED)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenRejected(TokenReason.MALFORMED) from exc
        if header.get("alg") != ALGORITHM:
            raise TokenRejected(TokenReason.UNSUPPORTED)
        if any(h in header for h in ("jku", "x5u", "jwk")):
            raise TokenRejected(TokenReason.UNSUPPORTED)  # keys come only from our JWKS
        kid = header.get("kid")
        key = await self._keys.get(kid) if isinstance(kid, str) and 0 < len(kid) <= 256 else None
        if key is None:
            raise TokenRejected(TokenReason.INVALID)
        claims = self._decode(token, key)
        if claims.get("type") != token_type:
            raise TokenRejected(TokenReason.INVALID)
        sub, jti = claims.get("sub"), claims.get("jti")
        if not isinstance(sub, str) or not _is_uuid(sub) or not isinstance(jti, str) or not jti:
            raise TokenRejected(TokenReason.INVALID)
        return claims

    def _decode(self, token: str, key: RSAPublicKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected(TokenReason.EXPIRED) from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected(TokenReason.BAD_SIGNATURE) from exc
        except jwt.DecodeError as exc:
            raise TokenRejected(TokenReason.MALFORMED) from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(TokenReason.INVALID) from exc


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]
