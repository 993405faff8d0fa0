"""Profiles: a nickname and image per user per workspace, with a "_default" fallback."""

from __future__ import annotations

from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import AlreadyExists, NotFound
from wealist.user import store
from wealist.user.actions.common import access_workspace
from wealist.user.rows import ProfileRow
from wealist.user.schemas import CreateProfile, ProfileOut, UpdateProfile
from wealist.user.store import DEFAULT_WORKSPACE

__all__ = (
    "DEFAULT_WORKSPACE",
    "access_profile_workspace",
    "do_create_profile",
    "do_delete_profile",
    "do_update_my_profile",
    "get_my_profile",
    "get_profile",
    "list_my_profiles",
    "profile_out",
)

PROFILE_NOT_FOUND = "profile not found"


def profile_out(row: ProfileRow) -> ProfileOut:
    return ProfileOut(
        profile_id=row.id,
        user_id=row.user_id,
        workspace_id=row.workspace_id,
        nick_name=row.nick_name,
        email=row.email,
        created_at=row.created_at,
        updated_at=row.updated_at,
        profile_image_url=row.profile_image_url,
    )


async def access_profile_workspace(conn: Conn, me: UUID, workspace_id: UUID | None) -> UUID:
    """The workspace a "my profile" route acts on: the header's, which the caller must be a
    member of, or the "_default" one when the header is absent."""
    if workspace_id is None or workspace_id == DEFAULT_WORKSPACE:
        return DEFAULT_WORKSPACE
    await access_workspace(conn, workspace_id, me)
    return workspace_id


async def do_create_profile(ctx: ServiceContext, me: UUID, new: CreateProfile) -> ProfileOut:
    async with ctx.database.transaction() as tx:
        workspace_id = await access_profile_workspace(tx, me, new.workspace_id)
        row = await store.insert_profile(
            tx,
            user=me,
            workspace_id=workspace_id,
            nick_name=new.nick_name,
            image=new.profile_image_url,
        )
    if row is None:
        raise AlreadyExists("you already have a profile in this workspace")
    return profile_out(row)


async def get_my_profile(ctx: ServiceContext, me: UUID, workspace_id: UUID | None) -> ProfileOut:
    async with ctx.database.connection() as conn:
        row = await store.profile_of(conn, me, workspace_id or DEFAULT_WORKSPACE)
    if row is None:
        raise NotFound(PROFILE_NOT_FOUND)
    return profile_out(row)


async def list_my_profiles(ctx: ServiceContext, me: UUID) -> list[ProfileOut]:
    async with ctx.database.connection() as conn:
        return [profile_out(r) for r in await store.my_profiles(conn, me)]


async def do_update_my_profile(
    ctx: ServiceContext, me: UUID, workspace_id: UUID | None, change: UpdateProfile
) -> ProfileOut:
    async with ctx.database.transaction() as tx:
        target = await access_profile_workspace(tx, me, workspace_id)
        row = await store.upsert_profile(
            tx,
            user=me,
            workspace_id=target,
            nick_name=change.nick_name,
            image=change.profile_image_url,
        )
    if row is None:
        raise NotFound("user not found")
    return profile_out(row)


async def get_profile(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, user_id: UUID
) -> ProfileOut:
    """A member's profile in the workspace (or their "_default" one), for members only."""
    async with ctx.database.connection() as conn:
        await access_workspace(conn, workspace_id, me)
        found = await store.membership(conn, workspace_id, user_id)
        if found is None or not found.is_member:
            raise NotFound(PROFILE_NOT_FOUND)
        row = await store.profile_of(conn, user_id, workspace_id)
    if row is None:
        raise NotFound(PROFILE_NOT_FOUND)
    return profile_out(row)


async def do_delete_profile(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> None:
    async with ctx.database.connection() as conn:
        if not await store.delete_profile(conn, me, workspace_id):
            raise NotFound(PROFILE_NOT_FOUND)
