"""Rows the ops service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

__all__ = ("AuditRow", "ConfigRow", "PortalUserRow")


class PortalUserRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    email: str
    name: str
    picture: str
    role: str
    is_active: bool
    user_id: UUID | None
    last_login_at: datetime | None
    invited_by: UUID | None
    created_at: datetime
    updated_at: datetime


class AuditRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    user_id: UUID
    user_email: str
    action: str
    resource_type: str
    resource_id: str
    details: str
    ip_address: str
    user_agent: str
    created_at: datetime


class ConfigRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    key: str
    value: str
    description: str
    is_active: bool
    updated_by: UUID
    created_at: datetime
    updated_at: datetime
