"""Wire structs of the user service (request and response bodies)."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

import msgspec

__all__ = ("OAuthLogin", "OAuthLoginResult", "UserExists")

EMAIL_MAX = 254  # RFC 5321 path limit
EMAIL_LOCAL_MAX = 64
NAME_MAX = 100

# Deliberately practical, not RFC 5322: one "@", a dot-separated local part without
# whitespace, control characters or RFC specials, and a domain of at least two labels of
# letters, digits and inner hyphens (Unicode letters allowed for internationalised names).
_LOCAL_CHARS = r"[^\s@\x00-\x1f\x7f-\x9f\"(),.:;<>\[\\\]]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_EMAIL = re.compile(rf"({_LOCAL_CHARS}(?:\.{_LOCAL_CHARS})*)@{_LABEL}(?:\.{_LABEL})+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Lengths and the email syntax are checked after trimming, in __post_init__; the metadata
# only documents them in the OpenAPI schema.
Email = Annotated[
    str,
    msgspec.Meta(
        description=f"trimmed; compared case-insensitively; at most {EMAIL_MAX} characters"
    ),
]
Name = Annotated[
    str, msgspec.Meta(description=f"trimmed; may be empty; at most {NAME_MAX} characters")
]
Provider = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,32}$")]


class OAuthLogin(msgspec.Struct, rename="camel", kw_only=True):
    """``POST /api/internal/oauth/login``: find or create the user with this email.

    ``email`` and ``name`` are trimmed; the email is compared case-insensitively and kept
    as given. ``createOnly`` (additive) refuses an existing account instead of returning
    it: password sign-up uses it so that nobody can sign up into somebody else's account.
    """

    email: Email
    name: Name
    provider: Provider  # "google", "local", or another lowercase provider name
    create_only: bool = False

    def __post_init__(self) -> None:
        # Raised errors become 400 VALIDATION_ERROR: msgspec reports them as invalid values.
        self.email = self.email.strip()
        self.name = self.name.strip()
        if len(self.email) > EMAIL_MAX:
            raise ValueError(f"email is longer than {EMAIL_MAX} characters")
        match = _EMAIL.fullmatch(self.email)
        if match is None or len(match.group(1)) > EMAIL_LOCAL_MAX:
            raise ValueError("email is not a valid email address")
        if len(self.name) > NAME_MAX:
            raise ValueError(f"name is longer than {NAME_MAX} characters")
        if _CONTROL.search(self.name):
            raise ValueError("name contains control characters")


class OAuthLoginResult(msgspec.Struct, rename="camel", frozen=True):
    user_id: UUID


class UserExists(msgspec.Struct, frozen=True):
    exists: bool
