"""Users: internal login and existence, the caller's account, create/restore (internal)."""

from __future__ import annotations

import uuid
from uuid import UUID

from wealist.contracts.events import WORKSPACE_MEMBER_REMOVED, WorkspaceMemberRemoved
from wealist.core.context import ServiceContext
from wealist.core.errors import AlreadyExists, Conflict, Forbidden, NotFound, ValidationFailed
from wealist.core.outbox import enqueue
from wealist.user import store
from wealist.user.actions.common import SYSTEM_USER_ID, membership_answer, write_memberships
from wealist.user.rows import UserRow
from wealist.user.schemas import CreateUser, OAuthLogin, UpdateUser, UserOut

__all__ = (
    "check_user_exists",
    "do_create_user",
    "do_delete_me",
    "do_oauth_login",
    "do_restore_user",
    "do_update_user",
    "get_me",
    "get_user",
)

USER_NOT_FOUND = "user not found"


def user_out(row: UserRow) -> UserOut:
    return UserOut(
        user_id=row.id,
        email=row.email,
        name=row.name,
        provider=row.provider,
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        google_id=row.google_id,
        deleted_at=row.deleted_at,
    )


async def do_oauth_login(ctx: ServiceContext, login: OAuthLogin) -> UUID:
    """The id of the active user with ``login.email``, created when there is none.

    One statement, safe under concurrency (see ``upsert_login_user``). A disabled or
    soft-deleted account is refused with 403 rather than resurrected: re-enabling an
    account is an explicit restore, not a side effect of signing in again, and creating a
    second account for the address would split the person's data. The seeded system user
    can never sign in.
    """
    async with ctx.database.connection() as conn:
        user = await store.upsert_login_user(
            conn,
            proposed_id=uuid.uuid4(),
            email=login.email,
            name=login.name,
            provider=login.provider,
            create_only=login.create_only,
        )
    if not user.active or user.id == SYSTEM_USER_ID:
        raise Forbidden("account is disabled")
    if login.create_only and not user.created:
        raise AlreadyExists("a user with this email already exists")
    if user.created:
        ctx.log.info("user.created", user_id=str(user.id), provider=login.provider)
    return user.id


async def check_user_exists(ctx: ServiceContext, user_id: UUID) -> bool:
    """Whether the user exists and is active (not disabled, not soft-deleted)."""
    async with ctx.database.connection() as conn:
        return await store.user_is_active(conn, user_id)


async def get_me(ctx: ServiceContext, me: UUID) -> UserOut:
    async with ctx.database.connection() as conn:
        row = await store.get_user(conn, me)
    if row is None:
        raise NotFound(USER_NOT_FOUND)
    return user_out(row)


async def get_user(ctx: ServiceContext, me: UUID, user_id: UUID) -> UserOut:
    """Another user, visible only to the user themself and people sharing a workspace."""
    async with ctx.database.connection() as conn:
        row = await store.get_user_seen_by(conn, user_id, me)
    if row is None:
        raise NotFound(USER_NOT_FOUND)
    return user_out(row)


async def do_update_user(
    ctx: ServiceContext, me: UUID, user_id: UUID, change: UpdateUser
) -> UserOut:
    if user_id != me:
        raise Forbidden("you can only change your own account")
    if change.is_active:  # reactivating is a restore, which is not the user's to do
        change.is_active = None
    async with ctx.database.transaction() as tx:
        current = await store.get_user(tx, me)
        if current is None:
            raise NotFound(USER_NOT_FOUND)
        if change.email is not None and change.email.lower() != current.email.lower():
            raise ValidationFailed("email is the sign-in identity and cannot be changed here")
        row = await store.update_user(tx, me, name=change.name, is_active=change.is_active)
        if row is None:
            raise NotFound(USER_NOT_FOUND)
    return user_out(row)


async def do_delete_me(ctx: ServiceContext, me: UUID) -> None:
    """Soft-delete the caller's account; it leaves every workspace it belonged to.

    An owner must delete (or hand over) their workspaces first: a workspace never loses
    its owner.
    """
    async with ctx.database.transaction() as tx:
        if await store.owned_workspace_count(tx, me) > 0:
            raise Conflict("delete the workspaces you own before deleting your account")
        if not await store.soft_delete_user(tx, me):
            raise NotFound(USER_NOT_FOUND)
        left = await store.deactivate_memberships_of_user(tx, me)
        for seat in left:
            await enqueue(
                tx,
                WORKSPACE_MEMBER_REMOVED,
                WorkspaceMemberRemoved(
                    workspace_id=str(seat.workspace_id), user_id=str(me), removed_by=str(me)
                ),
            )
        answers = [
            membership_answer(s.workspace_id, me, role=None, active=False, version=s.version)
            for s in left
        ]
        tx.on_commit(lambda: write_memberships(ctx, answers))
    ctx.log.info("user.deleted", user_id=str(me), left_workspaces=len(left))


async def do_create_user(ctx: ServiceContext, new: CreateUser) -> UserOut:
    async with ctx.database.connection() as conn:
        row = await store.insert_user(
            conn,
            user_id=uuid.uuid4(),
            email=new.email,
            google_id=new.google_id,
            provider=new.provider,
        )
    if row is None:
        raise AlreadyExists("a user with this email already exists")
    return user_out(row)


async def do_restore_user(ctx: ServiceContext, user_id: UUID) -> UserOut:
    if user_id == SYSTEM_USER_ID:
        raise NotFound(USER_NOT_FOUND)
    async with ctx.database.connection() as conn:
        row = await store.restore_user(conn, user_id)
    if row is None:
        raise NotFound(USER_NOT_FOUND)
    return user_out(row)
