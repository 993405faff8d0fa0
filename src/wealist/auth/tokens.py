"""Minting access and refresh tokens (RS256, the active key's ``kid``).

Claims: ``sub`` ``iss`` ``aud`` ``iat`` ``exp`` ``type`` ``jti`` ``sid`` (the session, i.e. the
refresh family) and ``email`` when known. Every service checks ``type``, so a refresh
token never passes as an access token nor the other way round.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import msgspec

from wealist.auth.keys import KeyRing

__all__ = ("Minted", "Minter", "new_jti")


def new_jti() -> str:
    return uuid.uuid4().hex


class Minted(msgspec.Struct, frozen=True):
    token: str
    jti: str
    expires_at: int


class Minter:
    def __init__(self, keys: KeyRing, issuer: str, audience: str, access_ttl_s: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._access_ttl = access_ttl_s
        self._headers = {"kid": keys.kid, "typ": "JWT"}

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._keys.private, algorithm="RS256", headers=self._headers)

    def _claims(
        self, kind: str, *, user_id: str, session_id: str, jti: str, exp: int, email: str | None
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "sub": user_id,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(time.time()),
            "exp": exp,
            "type": kind,
            "jti": jti,
            "sid": session_id,
        }
        if email:
            claims["email"] = email
        return claims

    def access(self, user_id: str, session_id: str, email: str | None) -> Minted:
        jti = new_jti()
        exp = int(time.time()) + self._access_ttl
        claims = self._claims(
            "access", user_id=user_id, session_id=session_id, jti=jti, exp=exp, email=email
        )
        return Minted(self._sign(claims), jti, exp)

    def refresh(
        self, user_id: str, session_id: str, *, jti: str, expires_at: int, email: str | None
    ) -> Minted:
        claims = self._claims(
            "refresh", user_id=user_id, session_id=session_id, jti=jti, exp=expires_at, email=email
        )
        return Minted(self._sign(claims), jti, expires_at)
