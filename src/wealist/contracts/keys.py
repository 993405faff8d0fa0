"""Redis key names shared between services (the only place they are spelled)."""

from __future__ import annotations

__all__ = ("revoked_jti",)


def revoked_jti(jti: str) -> str:
    """Set by auth on logout (TTL: the token's remaining life); read by every service."""
    return f"auth:revoked:jti:{jti}"
