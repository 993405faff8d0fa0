"""The user service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

import functools
from datetime import datetime
from uuid import UUID

from wealist.contracts.membership import Person
from wealist.core.db import Conn, Queries, load_queries
from wealist.user.rows import (
    AttachmentRow,
    BumpedMembershipRow,
    CreatedWorkspaceRow,
    EmailUserRow,
    JoinRequestRefRow,
    JoinRequestRow,
    LoginUserRow,
    MemberRefRow,
    MemberRow,
    MembershipRow,
    MemberVersionRow,
    MyWorkspaceRow,
    ProfileRow,
    PurgeRow,
    SeatRow,
    UserRow,
    UserWorkspaceVersionRow,
    WorkspaceRow,
)

DEFAULT_WORKSPACE = UUID(int=0)  # the hidden "_default" workspace of fallback profiles


@functools.cache
def queries() -> Queries:
    """The named queries, read on first use (nothing happens at import time)."""
    return load_queries("wealist.user.queries")


# --- users ------------------------------------------------------------------------------


async def upsert_login_user(
    conn: Conn, *, proposed_id: UUID, email: str, name: str, provider: str, create_only: bool
) -> LoginUserRow:
    row = await conn.fetch_one(
        queries().upsert_login_user,
        {
            "id": proposed_id,
            "email": email,
            "name": name,
            "provider": provider,
            "create_only": create_only,
        },
        LoginUserRow,
    )
    if row is None:  # cannot happen: ON CONFLICT DO UPDATE ... RETURNING always yields a row
        raise RuntimeError("upsert_login_user returned no row")
    return row


async def user_is_active(conn: Conn, user_id: UUID) -> bool:
    return bool(await conn.fetch_val(queries().user_is_active, {"id": user_id}))


async def get_user(conn: Conn, user_id: UUID) -> UserRow | None:
    return await conn.fetch_one(queries().get_user, {"id": user_id}, UserRow)


async def get_user_any(conn: Conn, user_id: UUID) -> UserRow | None:
    return await conn.fetch_one(queries().get_user_any, {"id": user_id}, UserRow)


async def get_user_seen_by(conn: Conn, user_id: UUID, viewer: UUID) -> UserRow | None:
    params = {"id": user_id, "viewer": viewer}
    return await conn.fetch_one(queries().get_user_seen_by, params, UserRow)


async def find_active_user_by_email(conn: Conn, email: str) -> EmailUserRow | None:
    params = {"email": email}
    return await conn.fetch_one(queries().find_active_user_by_email, params, EmailUserRow)


async def insert_user(
    conn: Conn, *, user_id: UUID, email: str, google_id: str | None, provider: str
) -> UserRow | None:
    params = {"id": user_id, "email": email, "google_id": google_id, "provider": provider}
    return await conn.fetch_one(queries().insert_user, params, UserRow)


async def update_user(
    conn: Conn, user_id: UUID, *, name: str | None, is_active: bool | None
) -> UserRow | None:
    params = {"id": user_id, "name": name, "is_active": is_active}
    return await conn.fetch_one(queries().update_user, params, UserRow)


async def soft_delete_user(conn: Conn, user_id: UUID) -> bool:
    return await conn.execute(queries().soft_delete_user, {"id": user_id}) == 1


async def restore_user(conn: Conn, user_id: UUID) -> UserRow | None:
    return await conn.fetch_one(queries().restore_user, {"id": user_id}, UserRow)


async def lock_user(conn: Conn, user_id: UUID) -> EmailUserRow | None:
    return await conn.fetch_one(queries().lock_user, {"id": user_id}, EmailUserRow)


# --- workspaces -------------------------------------------------------------------------


async def workspace_seen_by_member(conn: Conn, workspace_id: UUID, user: UUID) -> SeatRow | None:
    params = {"id": workspace_id, "user": user}
    return await conn.fetch_one(queries().workspace_seen_by_member, params, SeatRow)


async def lock_workspace_for_member(conn: Conn, workspace_id: UUID, user: UUID) -> SeatRow | None:
    params = {"id": workspace_id, "user": user}
    return await conn.fetch_one(queries().lock_workspace_for_member, params, SeatRow)


async def lock_workspace(conn: Conn, workspace_id: UUID) -> WorkspaceRow | None:
    return await conn.fetch_one(queries().lock_workspace, {"id": workspace_id}, WorkspaceRow)


async def insert_workspace(  # one column per argument
    conn: Conn,
    *,
    workspace_id: UUID,
    owner: UUID,
    name: str,
    description: str | None,
    is_public: bool,
    need_approved: bool,
    nick_name: str,
    email: str,
) -> CreatedWorkspaceRow:
    params = {
        "id": workspace_id,
        "owner": owner,
        "name": name,
        "description": description,
        "is_public": is_public,
        "need_approved": need_approved,
        "nick_name": nick_name,
        "email": email,
    }
    row = await conn.fetch_one(queries().insert_workspace, params, CreatedWorkspaceRow)
    if row is None:  # cannot happen: the CTE inserts unconditionally
        raise RuntimeError("insert_workspace returned no row")
    return row


async def list_my_workspaces(conn: Conn, user: UUID) -> list[MyWorkspaceRow]:
    return await conn.fetch_all(queries().list_my_workspaces, {"user": user}, MyWorkspaceRow)


async def search_public_workspaces(conn: Conn, pattern: str, limit: int) -> list[WorkspaceRow]:
    params = {"pattern": pattern, "limit": limit}
    return await conn.fetch_all(queries().search_public_workspaces, params, WorkspaceRow)


async def update_workspace(  # one column per argument
    conn: Conn,
    workspace_id: UUID,
    *,
    name: str | None,
    description: str | None,
    set_description: bool,
    is_public: bool | None,
    need_approved: bool | None,
    only_owner_can_invite: bool | None,
) -> WorkspaceRow | None:
    params = {
        "id": workspace_id,
        "name": name,
        "description": description,
        "set_description": set_description,
        "is_public": is_public,
        "need_approved": need_approved,
        "only_owner_can_invite": only_owner_can_invite,
    }
    return await conn.fetch_one(queries().update_workspace, params, WorkspaceRow)


async def delete_workspace(conn: Conn, workspace_id: UUID) -> bool:
    return await conn.execute(queries().delete_workspace, {"id": workspace_id}) == 1


async def bump_workspace_memberships(conn: Conn, workspace_id: UUID) -> list[BumpedMembershipRow]:
    params = {"id": workspace_id}
    return await conn.fetch_all(queries().bump_workspace_memberships, params, BumpedMembershipRow)


async def clear_default(conn: Conn, user: UUID, keep: UUID) -> None:
    await conn.execute(queries().clear_default, {"user": user, "id": keep})


async def set_default(conn: Conn, user: UUID, workspace_id: UUID) -> bool:
    return await conn.execute(queries().set_default, {"user": user, "id": workspace_id}) == 1


# --- members ----------------------------------------------------------------------------


async def list_members(
    conn: Conn, workspace_id: UUID, *, after: tuple[datetime, UUID], limit: int
) -> list[MemberRow]:
    params = {
        "id": workspace_id,
        "after_joined": after[0],
        "after_id": after[1],
        "limit": limit,
    }
    return await conn.fetch_all(queries().list_members, params, MemberRow)


async def member_view(conn: Conn, member_id: UUID) -> MemberRow | None:
    return await conn.fetch_one(queries().member_view, {"id": member_id}, MemberRow)


async def find_member(conn: Conn, workspace_id: UUID, ref: UUID) -> MemberRefRow | None:
    params = {"workspace": workspace_id, "ref": ref}
    return await conn.fetch_one(queries().find_member, params, MemberRefRow)


async def count_admins(conn: Conn, workspace_id: UUID) -> int:
    return int(await conn.fetch_val(queries().count_admins, {"workspace": workspace_id}))


async def add_member(
    conn: Conn, workspace_id: UUID, user: UUID, role: str
) -> tuple[UUID, int] | None:
    """(membership id, version), or None when the user already is an active member."""
    params = {"workspace": workspace_id, "user": user, "role": role}
    found = await conn.fetch_one(queries().add_member, params, MemberVersionRow)
    return None if found is None else (found.id, found.version)


async def ensure_profile(conn: Conn, workspace_id: UUID, user: UUID) -> None:
    await conn.execute(queries().ensure_profile, {"workspace": workspace_id, "user": user})


async def set_member_role(conn: Conn, member_id: UUID, role: str) -> int | None:
    """The membership's new version, or None when it is no longer active."""
    found = await conn.fetch_val(queries().set_member_role, {"id": member_id, "role": role})
    return None if found is None else int(found)


async def deactivate_member(conn: Conn, member_id: UUID) -> int | None:
    found = await conn.fetch_val(queries().deactivate_member, {"id": member_id})
    return None if found is None else int(found)


async def deactivate_memberships_of_user(conn: Conn, user: UUID) -> list[UserWorkspaceVersionRow]:
    params = {"user": user}
    return await conn.fetch_all(
        queries().deactivate_memberships_of_user, params, UserWorkspaceVersionRow
    )


async def owned_workspace_count(conn: Conn, user: UUID) -> int:
    return int(await conn.fetch_val(queries().owned_workspace_count, {"user": user}))


async def membership(conn: Conn, workspace_id: UUID, user: UUID) -> MembershipRow | None:
    params = {"workspace": workspace_id, "user": user}
    return await conn.fetch_one(queries().membership, params, MembershipRow)


async def workspace_name(conn: Conn, workspace_id: UUID) -> str | None:
    found = await conn.fetch_val(queries().workspace_name, {"workspace": workspace_id})
    return None if found is None else str(found)


async def directory(conn: Conn, workspace_id: UUID, users: list[UUID]) -> list[Person]:
    params = {"workspace": workspace_id, "users": users}
    return await conn.fetch_all(queries().directory, params, Person)


async def share_workspace(conn: Conn, user: UUID, other: UUID) -> bool:
    params = {"user": user, "other": other}
    return bool(await conn.fetch_val(queries().share_workspace, params))


# --- join requests ----------------------------------------------------------------------


async def insert_join_request(
    conn: Conn, workspace_id: UUID, user: UUID, status: str
) -> UUID | None:
    """The new request's id, or None when the user already has a pending one."""
    params = {"workspace": workspace_id, "user": user, "status": status}
    found = await conn.fetch_val(queries().insert_join_request, params)
    return None if found is None else UUID(str(found))


async def join_request_view(conn: Conn, request_id: UUID) -> JoinRequestRow | None:
    return await conn.fetch_one(queries().join_request_view, {"id": request_id}, JoinRequestRow)


async def list_pending_join_requests(
    conn: Conn, workspace_id: UUID, limit: int
) -> list[JoinRequestRow]:
    params = {"workspace": workspace_id, "limit": limit}
    return await conn.fetch_all(queries().list_pending_join_requests, params, JoinRequestRow)


async def find_join_request(conn: Conn, workspace_id: UUID, ref: UUID) -> JoinRequestRefRow | None:
    params = {"workspace": workspace_id, "ref": ref}
    return await conn.fetch_one(queries().find_join_request, params, JoinRequestRefRow)


async def decide_join_request(conn: Conn, request_id: UUID, status: str) -> None:
    await conn.execute(queries().decide_join_request, {"id": request_id, "status": status})


async def approve_pending_request_of(conn: Conn, workspace_id: UUID, user: UUID) -> None:
    params = {"workspace": workspace_id, "user": user}
    await conn.execute(queries().approve_pending_request_of, params)


# --- profiles ---------------------------------------------------------------------------


async def profile_of(conn: Conn, user: UUID, workspace_id: UUID) -> ProfileRow | None:
    params = {"user": user, "workspace": workspace_id}
    return await conn.fetch_one(queries().profile_of, params, ProfileRow)


async def my_profiles(conn: Conn, user: UUID) -> list[ProfileRow]:
    return await conn.fetch_all(queries().my_profiles, {"user": user}, ProfileRow)


async def insert_profile(
    conn: Conn, *, user: UUID, workspace_id: UUID, nick_name: str, image: str | None
) -> ProfileRow | None:
    params = {"user": user, "workspace": workspace_id, "nick_name": nick_name, "image": image}
    return await conn.fetch_one(queries().insert_profile, params, ProfileRow)


async def upsert_profile(
    conn: Conn, *, user: UUID, workspace_id: UUID, nick_name: str | None, image: str | None
) -> ProfileRow | None:
    params = {"user": user, "workspace": workspace_id, "nick_name": nick_name, "image": image}
    return await conn.fetch_one(queries().upsert_profile, params, ProfileRow)


async def delete_profile(conn: Conn, user: UUID, workspace_id: UUID) -> bool:
    params = {"user": user, "workspace": workspace_id}
    return int(await conn.fetch_val(queries().delete_profile, params)) == 1


# --- attachments ------------------------------------------------------------------------


async def count_pending_uploads(conn: Conn, user: UUID) -> int:
    return int(await conn.fetch_val(queries().count_pending_uploads, {"user": user}))


async def insert_attachment(  # one column per argument
    conn: Conn,
    *,
    attachment_id: UUID,
    key: str,
    name: str,
    url: str,
    size: int,
    content_type: str,
    user: UUID,
    expires_at: datetime,
) -> None:
    params = {
        "id": attachment_id,
        "key": key,
        "name": name,
        "url": url,
        "size": size,
        "content_type": content_type,
        "user": user,
        "expires_at": expires_at,
    }
    await conn.execute(queries().insert_attachment, params)


async def attachment_by_key(conn: Conn, key: str) -> AttachmentRow | None:
    return await conn.fetch_one(queries().attachment_by_key, {"key": key}, AttachmentRow)


async def lock_attachment(conn: Conn, attachment_id: UUID) -> AttachmentRow | None:
    params = {"id": attachment_id}
    return await conn.fetch_one(queries().lock_attachment, params, AttachmentRow)


async def mark_uploaded(conn: Conn, attachment_id: UUID, name: str) -> AttachmentRow | None:
    params = {"id": attachment_id, "name": name}
    return await conn.fetch_one(queries().mark_uploaded, params, AttachmentRow)


async def confirm_attachment(conn: Conn, attachment_id: UUID, profile_id: UUID) -> None:
    params = {"id": attachment_id, "profile": profile_id}
    await conn.execute(queries().confirm_attachment, params)


async def claim_purgeable(conn: Conn, limit: int) -> list[PurgeRow]:
    return await conn.fetch_all(queries().claim_purgeable, {"limit": limit}, PurgeRow)


async def delete_attachments(conn: Conn, ids: list[UUID]) -> None:
    await conn.execute(queries().delete_attachments, {"ids": ids})
