"""argon2id password hashes, computed off the event loop.

Parameters follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): about 25 ms of one
core per hash, run in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ("MAX_PASSWORD", "MIN_PASSWORD", "hash_password", "password_problem", "verify_password")

MIN_PASSWORD = 8
MAX_PASSWORD = 128


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@cache
def _dummy_hash() -> str:
    # Verified against when the email is unknown, so both answers take the same time.
    return _hasher().hash("wealist-no-such-account")


def password_problem(password: str, email: str) -> str | None:
    """Why ``password`` is not acceptable (NIST SP 800-63B rules), or None."""
    if len(password) < MIN_PASSWORD:
        return f"password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password must be at most {MAX_PASSWORD} characters"
    if not password.strip():
        return "password must not be only spaces"
    if password.strip().lower() == email.strip().lower():
        return "password must not be the email address"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a rehash to store when the parameters changed); ``None`` hash: no account."""

    def check() -> tuple[bool, str | None]:
        hasher = _hasher()
        try:
            hasher.verify(stored_hash or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False, None
        if stored_hash is None:
            return False, None
        return True, hasher.hash(password) if hasher.check_needs_rehash(stored_hash) else None

    return await asyncio.to_thread(check)
