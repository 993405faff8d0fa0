"""Who may use the portal and as what: access checks, sign-in, and managing portal users.

Roles (contract 10): ``admin`` manages users, configs and reads the audit log; ``pm``
manages configs; ``viewer`` reads monitoring. Every portal request names its caller by
the access token's ``email`` claim. A portal user is bound to the wealist account that
first signs in with that email: another account claiming the same email later is refused.
An address in ``WEALIST_OPS_ADMIN_EMAILS`` with no portal user yet becomes an admin at its
first request; nobody else becomes a portal user without an admin's invitation.
"""

from __future__ import annotations

from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import AlreadyExists, Forbidden, NotFound
from wealist.ops import store
from wealist.ops.actions import audit
from wealist.ops.actions.common import (
    LastAdmin,
    NotPortalUser,
    Requester,
    SelfModification,
    decode_keyset,
    encode_cursor,
    ops_settings,
    user_out,
)
from wealist.ops.rows import PortalUserRow
from wealist.ops.schemas import CallbackOut, InviteUser, PortalUserOut

__all__ = (
    "ADMIN",
    "ANY_ROLE",
    "MANAGERS",
    "access_portal",
    "do_deactivate",
    "do_invite",
    "do_logout",
    "do_reactivate",
    "do_sign_in",
    "do_update_role",
    "get_user",
    "list_users",
)

ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "pm"})
ANY_ROLE = frozenset({"admin", "pm", "viewer"})
USERS_PAGE_MAX = 200
PORTAL_USER = "portal_user"


async def access_portal(
    ctx: ServiceContext, who: Requester, roles: frozenset[str]
) -> PortalUserRow:
    """The caller's portal user, if active and holding one of ``roles``; 403 otherwise.

    One query for a known, bound user (the common case).
    """
    email = who.email
    if not email:
        raise NotPortalUser("Access denied: the access token carries no email")
    async with ctx.database.connection() as conn:
        row = await store.user_by_email(conn, email)
    if row is None:
        if email not in ops_settings(ctx).admins:
            raise NotPortalUser
        row = await _bootstrap_admin(ctx, who)
    row = await _bound(ctx, row, who.user_id)
    if not row.is_active:
        raise Forbidden("Access denied: User is inactive", code="PORTAL_USER_INACTIVE")
    if row.role not in roles:
        raise Forbidden("Access denied: Insufficient permissions")
    return row


async def _bootstrap_admin(ctx: ServiceContext, who: Requester) -> PortalUserRow:
    """Create the portal admin named in the settings, once (a concurrent first request
    finds the row the other one made)."""
    async with ctx.database.transaction() as tx:
        row = await store.insert_user(tx, email=who.email, role="admin", invited_by=None)
        if row is not None:
            await audit.record(
                tx,
                row,
                who,
                action="create",
                resource_type=PORTAL_USER,
                resource_id=str(row.id),
                details="Admin from WEALIST_OPS_ADMIN_EMAILS",
            )
            ctx.log.info("ops.admin_bootstrapped", portal_user_id=str(row.id))
    if row is None:
        async with ctx.database.connection() as conn:
            row = await store.user_by_email(conn, who.email)
        if row is None:  # inserted and deleted meanwhile: nothing deletes portal users
            raise NotPortalUser
    return row


async def _bound(ctx: ServiceContext, row: PortalUserRow, user_id: UUID) -> PortalUserRow:
    if row.user_id == user_id:
        return row
    if row.user_id is None:
        async with ctx.database.connection() as conn:
            if await store.bind_user(conn, row.id, user_id):
                found = await store.user_by_id(conn, row.id)
                if found is not None:
                    return found
            row = await store.user_by_id(conn, row.id) or row
        if row.user_id == user_id:
            return row
    ctx.log.warning("ops.email_claimed_by_another_account", portal_user_id=str(row.id))
    raise NotPortalUser("Access denied: this portal user belongs to another account")


# --- sign-in --------------------------------------------------------------------------


async def do_sign_in(ctx: ServiceContext, who: Requester) -> CallbackOut:
    """``GET /auth/callback``: stamp the sign-in and log it; ``isNew`` on the first one."""
    me = await access_portal(ctx, who, ANY_ROLE)
    async with ctx.database.transaction() as tx:
        first = await store.record_login(tx, me.id)
        await audit.record(
            tx,
            me,
            who,
            action="login",
            resource_type=PORTAL_USER,
            resource_id=str(me.id),
            details="Portal sign-in",
        )
        row = await store.user_by_id(tx, me.id)
    return CallbackOut(user_out(row or me), first)


async def do_logout(ctx: ServiceContext, who: Requester) -> None:
    """Log a portal user's sign-out; for anyone else there is nothing to record."""
    try:
        me = await access_portal(ctx, who, ANY_ROLE)
    except Forbidden:
        return
    async with ctx.database.transaction() as tx:
        await audit.record(
            tx,
            me,
            who,
            action="logout",
            resource_type=PORTAL_USER,
            resource_id=str(me.id),
            details="Portal sign-out",
        )


# --- managing portal users (admins) -----------------------------------------------------


async def list_users(
    ctx: ServiceContext, *, limit: int, cursor: str | None
) -> tuple[list[PortalUserOut], str | None]:
    after = decode_keyset(cursor)
    async with ctx.database.connection() as conn:
        rows = await store.list_users(conn, after, limit)
    following = encode_cursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return [user_out(r) for r in rows], following


async def get_user(ctx: ServiceContext, portal_id: UUID) -> PortalUserOut:
    async with ctx.database.connection() as conn:
        row = await store.user_by_id(conn, portal_id)
    if row is None:
        raise NotFound("portal user not found")
    return user_out(row)


async def do_invite(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, invite: InviteUser
) -> PortalUserOut:
    email = invite.email.strip().lower()
    async with ctx.database.transaction() as tx:
        row = await store.insert_user(tx, email=email, role=invite.role, invited_by=me.id)
        if row is None:
            raise AlreadyExists("A portal user with this email already exists")
        await audit.record(
            tx,
            me,
            who,
            action="create",
            resource_type=PORTAL_USER,
            resource_id=str(row.id),
            details=f"Invited user: {email} as {invite.role}",
        )
    return user_out(row)


async def _locked_target(tx: Conn, me: PortalUserRow, portal_id: UUID) -> PortalUserRow:
    if portal_id == me.id:
        raise SelfModification
    row = await store.lock_user(tx, portal_id)
    if row is None:
        raise NotFound("portal user not found")
    return row


def _check_still_admin(me: PortalUserRow, admins: list[UUID]) -> None:
    """The actor was an admin when the request began; a concurrent demotion that committed
    since must stop the request (its rows are locked now, so this holds until commit)."""
    if me.id not in admins:
        raise Forbidden("Access denied: Insufficient permissions")


def _check_keeps_an_admin(target: PortalUserRow, admins: list[UUID]) -> None:
    if target.role == "admin" and target.is_active and admins == [target.id]:
        raise LastAdmin


async def do_update_role(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, portal_id: UUID, role: str
) -> None:
    """Change someone's role; never one's own, never the last active admin's."""
    async with ctx.database.transaction() as tx:
        admins = await store.lock_active_admins(tx)  # first: every writer locks in one order
        _check_still_admin(me, admins)
        target = await _locked_target(tx, me, portal_id)
        if target.role == role:
            return
        if role != "admin":
            _check_keeps_an_admin(target, admins)
        await store.set_role(tx, target.id, role)
        await audit.record(
            tx,
            me,
            who,
            action="update",
            resource_type=PORTAL_USER,
            resource_id=str(target.id),
            details=f"Changed role from {target.role} to {role}",
        )


async def do_deactivate(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, portal_id: UUID
) -> None:
    async with ctx.database.transaction() as tx:
        admins = await store.lock_active_admins(tx)
        _check_still_admin(me, admins)
        target = await _locked_target(tx, me, portal_id)
        if not target.is_active:
            return
        _check_keeps_an_admin(target, admins)
        await store.set_active(tx, target.id, False)
        await audit.record(
            tx,
            me,
            who,
            action="update",
            resource_type=PORTAL_USER,
            resource_id=str(target.id),
            details="Deactivated user",
        )


async def do_reactivate(
    ctx: ServiceContext, me: PortalUserRow, who: Requester, portal_id: UUID
) -> None:
    async with ctx.database.transaction() as tx:
        _check_still_admin(me, await store.lock_active_admins(tx))
        target = await _locked_target(tx, me, portal_id)
        if target.is_active:
            return
        await store.set_active(tx, target.id, True)
        await audit.record(
            tx,
            me,
            who,
            action="update",
            resource_type=PORTAL_USER,
            resource_id=str(target.id),
            details="Reactivated user",
        )
