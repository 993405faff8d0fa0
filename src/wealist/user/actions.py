"""The user service's logic: ``access_*``/``check_*``/``do_*``/``notify_*``, framework-free."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.errors import AlreadyExists, Forbidden, ValidationFailed
from wealist.user import store
from wealist.user.schemas import OAuthLogin

__all__ = ("SYSTEM_USER_ID", "check_user_exists", "do_oauth_login", "parse_user_id")

SYSTEM_USER_ID = UUID("00000000-0000-0000-0000-000000000001")  # seeded by 0001_users.sql


def parse_user_id(raw: str) -> UUID:
    """A user id from a path segment; 400 when it is not a UUID."""
    try:  # msgspec accepts the canonical hyphenated form and 32 bare hex digits only
        return msgspec.convert(raw, UUID)
    except msgspec.ValidationError:
        raise ValidationFailed("userId is not a valid UUID") from None


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
