"""Wire structs of the auth service (contract section 3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

__all__ = (
    "Credentials",
    "LogoutReply",
    "RefreshRequest",
    "SessionOut",
    "SignupRequest",
    "TestStatus",
    "TestTokenRequest",
    "TokenPair",
    "ValidateReply",
    "ValidateRequest",
)

Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Token = Annotated[str, msgspec.Meta(max_length=16_384)]


class RefreshRequest(msgspec.Struct, frozen=True, rename="camel"):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=16_384)]


class TokenPair(msgspec.Struct, frozen=True, rename="camel"):
    access_token: str
    refresh_token: str
    user_id: str


class LogoutReply(msgspec.Struct, frozen=True):
    success: bool = True
    message: str = "로그아웃 성공"


class SocketTicket(msgspec.Struct, rename="camel", frozen=True):
    """A single-use stand-in for the access token in a WebSocket or SSE URL."""

    ticket: str
    expires_in: float  # seconds


class ValidateRequest(msgspec.Struct, frozen=True):
    token: Token


class ValidateReply(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    valid: bool
    message: str
    user_id: str | None = None
    code: str | None = None  # additive: the AUTH00x reason of a refusal


class Credentials(msgspec.Struct, frozen=True):
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class SignupRequest(msgspec.Struct, frozen=True):
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class SessionOut(msgspec.Struct, frozen=True, rename="camel"):
    id: str
    method: str
    user_agent: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class TestTokenRequest(msgspec.Struct, frozen=True, rename="camel"):
    user_id: uuid.UUID | None = None
    email: Email | None = None


class TestStatus(msgspec.Struct, frozen=True, rename="camel"):
    test_auth_enabled: bool = True
    message: str = "Test authentication is enabled; never enable it in production."
