"""What the ops actions share: who is asking, ids, cursors, reply shapes, error codes."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.errors import BadRequest, Conflict, Forbidden
from wealist.core.ids import decode_cursor, encode_cursor, parse_uuid
from wealist.core.security import Principal
from wealist.ops.rows import AuditRow, ConfigRow, PortalUserRow
from wealist.ops.schemas import AppConfigOut, AuditLogOut, PortalUserOut
from wealist.ops.settings import OpsSettings
from wealist.ops.store import Keyset

__all__ = (
    "START",
    "LastAdmin",
    "NotPortalUser",
    "Requester",
    "SelfModification",
    "audit_out",
    "config_out",
    "decode_cursor",
    "encode_cursor",
    "ops_settings",
    "parse_uuid",
    "user_out",
)

# Before every real row of a newest-first list.
START = Keyset(datetime(9999, 12, 31, tzinfo=UTC), UUID(int=(1 << 128) - 1))
USER_AGENT_MAX = 500


class NotPortalUser(Forbidden):
    code = "NOT_A_PORTAL_USER"
    default_message = "Access denied: Not a portal user"


class SelfModification(BadRequest):
    code = "SELF_MODIFICATION"
    default_message = "You cannot change your own role or status"


class LastAdmin(Conflict):
    code = "LAST_ADMIN"
    default_message = "The portal must keep at least one active admin"


class Requester(msgspec.Struct, frozen=True):
    """The verified caller and where the request came from (for the audit log)."""

    principal: Principal
    ip_address: str = ""
    user_agent: str = ""

    @property
    def email(self) -> str:
        return (self.principal.email or "").strip().lower()

    @property
    def user_id(self) -> UUID:
        return parse_uuid(self.principal.user_id, "token subject")


def ops_settings(ctx: ServiceContext) -> OpsSettings:
    settings = ctx.settings
    if not isinstance(settings, OpsSettings):  # the spec says OpsSettings; a wiring bug
        raise TypeError("the ops service runs with OpsSettings")
    return settings


def decode_keyset(cursor: str | None) -> Keyset:
    """Where a page starts: after the cursor's row, or at the start."""
    return START if cursor is None else Keyset(*decode_cursor(cursor))


def user_out(row: PortalUserRow) -> PortalUserOut:
    return PortalUserOut(
        id=row.id,
        email=row.email,
        name=row.name,
        picture=row.picture,
        role=row.role,
        is_active=row.is_active,
        last_login_at=row.last_login_at,
        created_at=row.created_at,
        invited_by=row.invited_by,
        bound_user_id=row.user_id,
    )


def audit_out(row: AuditRow) -> AuditLogOut:
    return AuditLogOut(
        id=row.id,
        user_id=row.user_id,
        user_email=row.user_email,
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        details=row.details,
        ip_address=row.ip_address,
        user_agent=row.user_agent,
        created_at=row.created_at,
    )


def config_out(row: ConfigRow) -> AppConfigOut:
    return AppConfigOut(
        id=row.id,
        key=row.key,
        value=row.value,
        description=row.description,
        is_active=row.is_active,
        updated_at=row.updated_at,
        created_at=row.created_at,
        updated_by=row.updated_by,
    )
