"""Rows read from auth_db."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

__all__ = (
    "PasswordAccount",
    "RevokedSession",
    "RevokedToken",
    "RotatedSession",
    "SessionRow",
    "SessionState",
)


class SessionRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    method: str
    user_agent: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


class SessionState(msgspec.Struct, frozen=True):
    id: uuid.UUID
    user_id: uuid.UUID
    current_jti: str
    expires_at: datetime
    revoked_at: datetime | None


class RotatedSession(msgspec.Struct, frozen=True):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str | None
    expires_at: datetime


class RevokedToken(msgspec.Struct, frozen=True):
    jti: str
    expires_at: datetime


class RevokedSession(msgspec.Struct, frozen=True):
    id: uuid.UUID
    revoked_at: datetime


class PasswordAccount(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    email: str
    password_hash: str
