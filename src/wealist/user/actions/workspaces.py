"""Workspaces: create, list, discover, read, change, delete; the membership answers."""

from __future__ import annotations

import uuid
from uuid import UUID

from wealist.contracts.events import WORKSPACE_DELETED, WorkspaceDeleted
from wealist.contracts.membership import DIRECTORY_MAX, Directory, DirectoryRequest, Membership
from wealist.core.context import ServiceContext
from wealist.core.errors import Forbidden, NotFound, ValidationFailed
from wealist.core.outbox import enqueue
from wealist.user import store
from wealist.user.actions.common import (
    WORKSPACE_NOT_FOUND,
    access_workspace,
    membership_answer,
    parse_uuid,
    require_manager,
    write_memberships,
)
from wealist.user.rows import WorkspaceRow
from wealist.user.schemas import (
    CreateWorkspace,
    MemberCheck,
    MyWorkspaceOut,
    SettingsOut,
    UpdateSettings,
    UpdateWorkspace,
    WorkspaceOut,
)

__all__ = (
    "check_member",
    "do_create_workspace",
    "do_delete_workspace",
    "do_set_default",
    "do_update_settings",
    "do_update_workspace",
    "get_membership",
    "get_settings",
    "get_workspace",
    "list_my_workspaces",
    "search_public",
)

SEARCH_LIMIT = 20


def workspace_out(row: WorkspaceRow, *, with_owner_email: bool = True) -> WorkspaceOut:
    return WorkspaceOut(
        workspace_id=row.id,
        owner_id=row.owner_id,
        workspace_name=row.workspace_name,
        is_public=row.is_public,
        need_approved=row.need_approved,
        is_active=row.is_active,
        created_at=row.created_at,
        workspace_description=row.workspace_description,
        deleted_at=row.deleted_at,
        owner_nick_name=row.owner_nick_name,
        owner_email=row.owner_email if with_owner_email else None,
    )


def settings_out(row: WorkspaceRow) -> SettingsOut:
    return SettingsOut(
        workspace_id=row.id,
        workspace_name=row.workspace_name,
        workspace_description=row.workspace_description,
        is_public=row.is_public,
        requires_approval=row.need_approved,
        only_owner_can_invite=row.only_owner_can_invite,
    )


async def do_create_workspace(ctx: ServiceContext, me: UUID, new: CreateWorkspace) -> WorkspaceOut:
    """The caller's new workspace: they are its OWNER and have a profile in it."""
    async with ctx.database.transaction() as tx:
        owner = await store.lock_user(tx, me)  # one creation per user at a time
        if owner is None:
            raise NotFound("user not found")
        row = await store.insert_workspace(
            tx,
            workspace_id=uuid.uuid4(),
            owner=me,
            name=new.workspace_name,
            description=new.workspace_description,
            is_public=new.is_public,
            need_approved=new.need_approved,
            nick_name=owner.name or owner.email,
            email=owner.email,
        )
        answer = membership_answer(row.id, me, role="OWNER", active=True, version=row.version)
        tx.on_commit(lambda: write_memberships(ctx, [answer]))
    return workspace_out(row)


async def list_my_workspaces(ctx: ServiceContext, me: UUID) -> list[MyWorkspaceOut]:
    async with ctx.database.connection() as conn:
        rows = await store.list_my_workspaces(conn, me)
    return [
        MyWorkspaceOut(
            workspace_id=r.id,
            workspace_name=r.workspace_name,
            workspace_description=r.workspace_description,
            owner=r.owner,
            role=r.role,
            created_at=r.created_at,
            is_default=r.is_default,
        )
        for r in rows
    ]


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_public(ctx: ServiceContext, name: str) -> list[WorkspaceOut]:
    """Discovery: public workspaces by name (what anyone signed in may see of them)."""
    name = name.strip()
    if not name:
        return []
    async with ctx.database.connection() as conn:
        rows = await store.search_public_workspaces(conn, like_pattern(name[:100]), SEARCH_LIMIT)
    return [workspace_out(r, with_owner_email=False) for r in rows]


async def get_workspace(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> WorkspaceOut:
    async with ctx.database.connection() as conn:
        return workspace_out(await access_workspace(conn, workspace_id, me))


async def get_settings(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> SettingsOut:
    async with ctx.database.connection() as conn:
        return settings_out(await access_workspace(conn, workspace_id, me))


async def _update(
    ctx: ServiceContext,
    me: UUID,
    workspace_id: UUID,
    *,
    name: str | None,
    description: str | None,
    is_public: bool | None,
    need_approved: bool | None,
    only_owner_can_invite: bool | None,
) -> WorkspaceRow:
    async with ctx.database.transaction() as tx:
        seat = await access_workspace(tx, workspace_id, me, lock=True)
        require_manager(seat)
        row = await store.update_workspace(
            tx,
            workspace_id,
            name=name,
            description=description or None,
            set_description=description is not None,
            is_public=is_public,
            need_approved=need_approved,
            only_owner_can_invite=only_owner_can_invite,
        )
        if row is None:
            raise NotFound(WORKSPACE_NOT_FOUND)
    return row


async def do_update_workspace(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, change: UpdateWorkspace
) -> WorkspaceOut:
    row = await _update(
        ctx,
        me,
        workspace_id,
        name=change.workspace_name,
        description=change.workspace_description,
        is_public=change.is_public,
        need_approved=change.need_approved,
        only_owner_can_invite=None,
    )
    return workspace_out(row)


async def do_update_settings(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, change: UpdateSettings
) -> SettingsOut:
    row = await _update(
        ctx,
        me,
        workspace_id,
        name=change.workspace_name,
        description=change.workspace_description,
        is_public=change.is_public,
        need_approved=change.requires_approval,
        only_owner_can_invite=change.only_owner_can_invite,
    )
    return settings_out(row)


async def do_delete_workspace(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> None:
    """Only the OWNER deletes a workspace; every membership answer becomes "no"."""
    async with ctx.database.transaction() as tx:
        seat = await access_workspace(tx, workspace_id, me, lock=True)
        if seat.role != "OWNER":
            raise Forbidden("only the workspace owner can delete it")
        await store.delete_workspace(tx, workspace_id)
        bumped = await store.bump_workspace_memberships(tx, workspace_id)
        await enqueue(
            tx,
            WORKSPACE_DELETED,
            WorkspaceDeleted(
                workspace_id=str(workspace_id),
                deleted_by=str(me),
                member_ids=[str(b.user_id) for b in bumped if b.is_active],
            ),
        )
        answers = [
            membership_answer(workspace_id, b.user_id, role=None, active=False, version=b.version)
            for b in bumped
        ]
        tx.on_commit(lambda: write_memberships(ctx, answers))
    ctx.log.info("workspace.deleted", workspace_id=str(workspace_id), members=len(bumped))


async def do_set_default(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> None:
    async with ctx.database.transaction() as tx:
        await store.clear_default(tx, me, workspace_id)
        if not await store.set_default(tx, me, workspace_id):
            raise NotFound(WORKSPACE_NOT_FOUND)  # rolls the clearing back


async def check_member(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, user_id: UUID
) -> MemberCheck:
    """Whether ``user_id`` is an active member. Asked by a member, or by a user about
    themself; anyone else learns nothing (404)."""
    async with ctx.database.connection() as conn:
        if user_id == me:
            found = await store.membership(conn, workspace_id, me)
            return MemberCheck(is_member=found is not None and found.is_member)
        await access_workspace(conn, workspace_id, me)
        found = await store.membership(conn, workspace_id, user_id)
    return MemberCheck(is_member=found is not None and found.is_member)


async def get_directory(
    ctx: ServiceContext, workspace_id: UUID, asked: DirectoryRequest
) -> Directory:
    """The workspace's name and how the asked users appear in it (internal API)."""
    if len(asked.user_ids) > DIRECTORY_MAX:
        raise ValidationFailed(f"at most {DIRECTORY_MAX} userIds")
    users = [parse_uuid(u, "userIds") for u in dict.fromkeys(asked.user_ids)]
    async with ctx.database.connection() as conn:
        name = await store.workspace_name(conn, workspace_id)
        if name is None:
            raise NotFound(WORKSPACE_NOT_FOUND)
        people = await store.directory(conn, workspace_id, users) if users else []
    return Directory(workspace_id=str(workspace_id), workspace_name=name, people=people)


async def get_membership(ctx: ServiceContext, workspace_id: UUID, user_id: UUID) -> Membership:
    """The internal answer, also stored in the cache unless it holds a newer one."""
    async with ctx.database.connection() as conn:
        found = await store.membership(conn, workspace_id, user_id)
    if found is None:
        answer = membership_answer(workspace_id, user_id, role=None, active=False, version=0)
    else:
        answer = membership_answer(
            workspace_id, user_id, role=found.role, active=found.is_member, version=found.version
        )
    await write_memberships(ctx, [answer])
    return answer
