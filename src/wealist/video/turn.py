"""TURN REST credentials (draft-uberti-behave-turn-rest), as coturn's ``use-auth-secret``
checks them: the username is ``<unix expiry>:<user id>``, the password the base64
HMAC-SHA1 of the username under the shared secret. coturn refuses the pair once the
expiry has passed, so nothing needs revoking."""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ("turn_password", "turn_username")


def turn_username(user_id: str, expires_at: int) -> str:
    return f"{expires_at}:{user_id}"


def turn_password(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
