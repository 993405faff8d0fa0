"""Redis key names shared between services (the only place they are spelled).

Revocations (written by auth, ``wealist.auth.revocations``; read by every service,
``wealist.core.security.PushedRevocations``):

- ``REVOCATIONS_LIVE``: a sorted set of every live revocation, member ``jti:<id>`` or
  ``sid:<id>`` (:func:`jti_entry`, :func:`session_entry`), score its expiry (epoch seconds).
- ``REVOCATIONS_SEQ``: incremented once per publish; ``REVOCATIONS_CHANNEL`` carries one
  :class:`RevocationPush` per increment, in the same atomic script.
- ``REVOCATIONS_LOADED``: the marker, its value the *epoch* (random, new at every reload of
  the list from auth_db; any non-empty value is an epoch).
- ``revoked_jti`` / ``revoked_session``: one key per revocation with a TTL, kept for the
  readers that look a single one up.
"""

from __future__ import annotations

import msgspec

__all__ = (
    "REVOCATIONS_CHANNEL",
    "REVOCATIONS_LIVE",
    "REVOCATIONS_LOADED",
    "REVOCATIONS_SEQ",
    "RevocationPush",
    "jti_entry",
    "revoked_jti",
    "revoked_session",
    "session_entry",
)

# Set by the auth service once Redis holds every live revocation from auth_db. Verifiers
# refuse all tokens while it is missing: after a FLUSHALL or a Redis restart without
# persistence, a logged-out token is refused until auth has written the list back. Its
# value is the epoch of that load: a verifier that sees another one reloads its copy.
REVOCATIONS_LOADED = "auth:revoked:loaded"

# Sorted set: member jti:<id> / sid:<id>, score = expiry in epoch seconds.
REVOCATIONS_LIVE = "auth:revoked:live"

# The number of the last publish (INCR); a verifier that sees more than it applied missed one.
REVOCATIONS_SEQ = "auth:revoked:seq"

# Pub/sub channel: one RevocationPush (JSON) per publish and per reload.
REVOCATIONS_CHANNEL = "auth:revoked:push"


class RevocationPush(msgspec.Struct, frozen=True):
    """A message on ``REVOCATIONS_CHANNEL``.

    ``epoch`` is the marker's value when it was published (``None``: the marker was
    missing), ``seq`` the value ``REVOCATIONS_SEQ`` took, ``entries`` the revocations it
    added as ``[member, expiry]``; ``reloaded`` says auth has just written the whole list
    back under a new epoch.
    """

    epoch: str | None
    seq: int
    entries: list[tuple[str, int]] = msgspec.field(default_factory=list)
    reloaded: bool = False


def jti_entry(jti: str) -> str:
    """The member of ``REVOCATIONS_LIVE`` for one revoked access token."""
    return f"jti:{jti}"


def session_entry(sid: str) -> str:
    """The member of ``REVOCATIONS_LIVE`` for one revoked session."""
    return f"sid:{sid}"


def revoked_jti(jti: str) -> str:
    """One revoked access token (TTL: its remaining life). Written by auth; read by all."""
    return f"auth:revoked:jti:{jti}"


def revoked_session(sid: str) -> str:
    """A revoked session (refresh family): every access token carrying ``sid`` is refused."""
    return f"auth:revoked:sid:{sid}"
