"""Redis key names shared between services (the only place they are spelled)."""

from __future__ import annotations

__all__ = ("REVOCATIONS_LOADED", "revoked_jti", "revoked_session")

# Set by the auth service once Redis holds every live revocation from auth_db. Verifiers
# refuse all tokens while it is missing: after a FLUSHALL or a Redis restart without
# persistence, a logged-out token is refused until auth has written the list back.
REVOCATIONS_LOADED = "auth:revoked:loaded"


def revoked_jti(jti: str) -> str:
    """One revoked access token (TTL: its remaining life). Written by auth; read by all."""
    return f"auth:revoked:jti:{jti}"


def revoked_session(sid: str) -> str:
    """A revoked session (refresh family): every access token carrying ``sid`` is refused."""
    return f"auth:revoked:sid:{sid}"
