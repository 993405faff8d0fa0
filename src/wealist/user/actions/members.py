"""Members: list, invite, change a role, remove (and leave)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from wealist.contracts.events import WORKSPACE_MEMBER_REMOVED, WorkspaceMemberRemoved
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import AlreadyExists, Conflict, Forbidden, NotFound, ValidationFailed
from wealist.core.ids import decode_cursor, encode_cursor
from wealist.core.outbox import enqueue
from wealist.user import store
from wealist.user.actions.common import (
    MANAGERS,
    access_workspace,
    membership_answer,
    notify,
    write_memberships,
)
from wealist.user.rows import MemberRow, SeatRow
from wealist.user.schemas import ChangeRole, Invite, MemberOut

__all__ = (
    "MAX_ADMINS",
    "MEMBERS_PAGE_MAX",
    "add_member",
    "do_change_role",
    "do_invite",
    "do_remove_member",
    "list_members",
    "member_out",
)

MAX_ADMINS = 4
MEMBERS_PAGE_MAX = 1000
MEMBER_NOT_FOUND = "member not found in this workspace"
_START = (datetime.fromisoformat("0001-01-01T00:00:00+00:00"), UUID(int=0))


def member_out(row: MemberRow) -> MemberOut:
    return MemberOut(
        workspace_member_id=row.id,
        workspace_id=row.workspace_id,
        user_id=row.user_id,
        role_name=row.role_name,
        is_default=row.is_default,
        is_active=row.is_active,
        joined_at=row.joined_at,
        updated_at=row.updated_at,
        user_email=row.user_email,
        nick_name=row.nick_name,
        profile_image_url=row.profile_image_url,
    )


def member_cursor(row: MemberRow) -> str:
    return encode_cursor(row.joined_at, row.id)


async def list_members(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, *, limit: int, cursor: str | None
) -> tuple[list[MemberOut], str | None]:
    """A page of active members in join order, and the cursor of the next page (if any).

    Two queries whatever the size: the caller's seat, then the page.
    """
    after = _START if cursor is None else decode_cursor(cursor)
    async with ctx.database.connection() as conn:
        await access_workspace(conn, workspace_id, me)
        rows = await store.list_members(conn, workspace_id, after=after, limit=limit)
    following = member_cursor(rows[-1]) if len(rows) == limit else None
    return [member_out(r) for r in rows], following


async def add_member(tx: Tx, workspace_id: UUID, user: UUID, role: str) -> int | None:
    """Make ``user`` an active member with a profile; the new membership version, or None
    when they already were one. The caller holds the workspace lock."""
    added = await store.add_member(tx, workspace_id, user, role)
    if added is None:
        return None
    await store.ensure_profile(tx, workspace_id, user)
    await store.approve_pending_request_of(tx, workspace_id, user)
    return added[1]


async def _check_admin_cap(tx: Tx, workspace_id: UUID) -> None:
    if await store.count_admins(tx, workspace_id) >= MAX_ADMINS:
        raise Conflict(f"a workspace has at most {MAX_ADMINS} admins")


def _check_may_invite(seat: SeatRow, role: str) -> None:
    if role == "OWNER":
        raise ValidationFailed("nobody can be invited as OWNER")
    if seat.role in MANAGERS:
        return
    if seat.only_owner_can_invite:
        raise Forbidden("only the owner or an admin can invite to this workspace")
    if role != "MEMBER":
        raise Forbidden("only the owner or an admin can invite an admin")


async def do_invite(ctx: ServiceContext, me: UUID, workspace_id: UUID, invite: Invite) -> MemberOut:
    """Add an existing user by email (no acceptance step, as the original); they are told
    through a WORKSPACE_INVITED notification."""
    async with ctx.database.transaction() as tx:
        seat = await access_workspace(tx, workspace_id, me, lock=True)
        _check_may_invite(seat, invite.role_name)
        target = await store.find_active_user_by_email(tx, invite.email)
        if target is None:
            raise NotFound("no user with this email")
        if invite.role_name == "ADMIN":
            await _check_admin_cap(tx, workspace_id)
        version = await add_member(tx, workspace_id, target.id, invite.role_name)
        if version is None:
            raise AlreadyExists("this user is already a member of the workspace")
        await notify(
            tx,
            kind="WORKSPACE_INVITED",
            actor=me,
            target=target.id,
            workspace_id=workspace_id,
            workspace_name=seat.workspace_name,
            metadata={"role": invite.role_name},
        )
        member = await store.find_member(tx, workspace_id, target.id)
        assert member is not None  # added in this transaction
        view = await store.member_view(tx, member.id)
        assert view is not None
        answer = membership_answer(
            workspace_id, target.id, role=invite.role_name, active=True, version=version
        )
        tx.on_commit(lambda: write_memberships(ctx, [answer]))
    return member_out(view)


async def do_change_role(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, ref: UUID, change: ChangeRole
) -> MemberOut:
    """OWNER and ADMINs change roles of non-owners; only the OWNER changes an ADMIN's
    (an ADMIN may step down). Nobody becomes OWNER this way; at most 4 ADMINs."""
    role = change.role_name
    async with ctx.database.transaction() as tx:
        seat = await access_workspace(tx, workspace_id, me, lock=True)
        if seat.role not in MANAGERS:
            raise Forbidden("only the workspace owner or an admin can change roles")
        target = await store.find_member(tx, workspace_id, ref)
        if target is None:
            raise NotFound(MEMBER_NOT_FOUND)
        if target.role == "OWNER":
            raise Forbidden("the owner's role cannot change")
        if role == "OWNER":
            raise ValidationFailed("ownership cannot be given by a role change")
        if seat.role == "ADMIN" and target.role == "ADMIN" and target.user_id != me:
            raise Forbidden("only the owner can change another admin's role")
        if role == "ADMIN" and target.role != "ADMIN":
            await _check_admin_cap(tx, workspace_id)
        if role != target.role:
            version = await store.set_member_role(tx, target.id, role)
            if version is None:
                raise NotFound(MEMBER_NOT_FOUND)
            if target.user_id != me:
                await notify(
                    tx,
                    kind="WORKSPACE_ROLE_CHANGED",
                    actor=me,
                    target=target.user_id,
                    workspace_id=workspace_id,
                    workspace_name=seat.workspace_name,
                    metadata={"oldRole": target.role, "newRole": role},
                )
            answer = membership_answer(
                workspace_id, target.user_id, role=role, active=True, version=version
            )
            tx.on_commit(lambda: write_memberships(ctx, [answer]))
        view = await store.member_view(tx, target.id)
        assert view is not None
    return member_out(view)


async def do_remove_member(ctx: ServiceContext, me: UUID, workspace_id: UUID, ref: UUID) -> None:
    """Anyone may leave (except the OWNER); the OWNER removes anyone else; an ADMIN
    removes MEMBERs. The member's profile in the workspace is deleted."""
    async with ctx.database.transaction() as tx:
        seat = await access_workspace(tx, workspace_id, me, lock=True)
        target = await store.find_member(tx, workspace_id, ref)
        if target is None:
            raise NotFound(MEMBER_NOT_FOUND)
        leaving = target.user_id == me
        if target.role == "OWNER":
            raise Forbidden("the owner cannot be removed; delete the workspace instead")
        if not leaving:
            if seat.role not in MANAGERS:
                raise Forbidden("only the workspace owner or an admin can remove members")
            if seat.role == "ADMIN" and target.role == "ADMIN":
                raise Forbidden("only the owner can remove an admin")
        version = await store.deactivate_member(tx, target.id)
        if version is None:
            raise NotFound(MEMBER_NOT_FOUND)
        await store.delete_profile(tx, target.user_id, workspace_id)
        await enqueue(
            tx,
            WORKSPACE_MEMBER_REMOVED,
            WorkspaceMemberRemoved(
                workspace_id=str(workspace_id), user_id=str(target.user_id), removed_by=str(me)
            ),
        )
        if not leaving:
            await notify(
                tx,
                kind="WORKSPACE_REMOVED",
                actor=me,
                target=target.user_id,
                workspace_id=workspace_id,
                workspace_name=seat.workspace_name,
            )
        answer = membership_answer(
            workspace_id, target.user_id, role=None, active=False, version=version
        )
        tx.on_commit(lambda: write_memberships(ctx, [answer]))
