"""Project members and requests to join: list, change roles, remove; ask, decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions import live
from wealist.board.actions.common import ADMINS, MEMBERS, access_project, lock_project
from wealist.board.rows import JoinRequestRow, ProjectMemberRow
from wealist.board.schemas.projects import JoinRequestOut, ProjectMemberOut
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.errors import AlreadyExists, BadRequest, Conflict, Forbidden, NotFound

__all__ = (
    "decide_join_request",
    "do_change_role",
    "do_remove_member",
    "do_request_to_join",
    "list_join_requests",
    "list_members",
)

MANAGERS_ONLY = "only the project owner or an admin can do this"
T = TypeVar("T", ProjectMemberOut, JoinRequestOut)


def member_out(row: ProjectMemberRow) -> ProjectMemberOut:
    return ProjectMemberOut(
        member_id=row.id,
        project_id=row.project_id,
        user_id=row.user_id,
        role_name=row.role_name,
        joined_at=row.joined_at,
    )


def request_out(row: JoinRequestRow) -> JoinRequestOut:
    return JoinRequestOut(
        request_id=row.id,
        project_id=row.project_id,
        user_id=row.user_id,
        status=row.status,
        requested_at=row.requested_at,
        updated_at=row.updated_at,
    )


async def _named(ctx: ServiceContext, workspace_id: UUID, items: Sequence[T]) -> list[T]:
    """``items`` with ``userName``/``userEmail`` as the workspace shows them (one call)."""
    names = await ctx.membership.directory(str(workspace_id), [str(i.user_id) for i in items])
    if names is None:
        return list(items)
    people = {p.user_id: p for p in names.people}
    named = []
    for item in items:
        person = people.get(str(item.user_id))
        named.append(
            item
            if person is None
            else msgspec.structs.replace(item, user_name=person.name, user_email=person.email)
        )
    return named


async def list_members(ctx: ServiceContext, me: UUID, project_id: UUID) -> list[ProjectMemberOut]:
    """Project members, for project members only (a workspace member who is not in the
    project gets 403)."""
    async with ctx.database.connection() as conn:
        seat = await access_project(
            ctx, conn, project_id, me, roles=MEMBERS, why="only project members can list them"
        )
        rows = await store.projects.project_members(conn, project_id)
    return await _named(ctx, seat.workspace_id, [member_out(r) for r in rows])


async def _members_changed(ctx: ServiceContext, tx: Tx, me: UUID, project_id: UUID) -> None:
    rows = await store.projects.project_members(tx, project_id)
    payload = [member_out(r) for r in rows]
    await live.emit(ctx, tx, project_id, live.PROJECT_MEMBERS_CHANGED, payload, actor=me)


async def do_change_role(
    ctx: ServiceContext, me: UUID, project_id: UUID, user: UUID, role: str
) -> ProjectMemberOut:
    """The OWNER changes a member's role (``memberId`` is the user id, contract 5.1).
    Naming someone else OWNER hands the project over: the old owner becomes ADMIN."""
    async with ctx.database.transaction() as tx:
        await lock_project(ctx, tx, project_id, me, roles={"OWNER"}, why="only the owner can")
        target = await store.projects.member_by_user(tx, project_id, user)
        if target is None:
            raise NotFound("project member not found")
        if target.role_name == "OWNER":
            raise BadRequest("the owner's role cannot be changed; name another owner instead")
        if role == "OWNER":
            await store.projects.transfer_ownership(tx, project_id, user)
        else:
            await store.projects.set_member_role(tx, project_id, user, role)
        changed = await store.projects.member_by_user(tx, project_id, user)
        assert changed is not None
        await _members_changed(ctx, tx, me, project_id)
    return member_out(changed)


async def do_remove_member(ctx: ServiceContext, me: UUID, project_id: UUID, user: UUID) -> None:
    """The OWNER or an ADMIN removes a member; never the OWNER, never themself (400), and
    an ADMIN cannot remove another ADMIN (403)."""
    async with ctx.database.transaction() as tx:
        seat = await lock_project(ctx, tx, project_id, me, roles=ADMINS, why=MANAGERS_ONLY)
        if user == me:
            raise BadRequest("you cannot remove yourself from the project")
        target = await store.projects.member_by_user(tx, project_id, user)
        if target is None:
            raise NotFound("project member not found")
        if target.role_name == "OWNER":
            raise BadRequest("the project owner cannot be removed")
        if target.role_name == "ADMIN" and seat.role != "OWNER":
            raise Forbidden("only the owner can remove an admin")
        await store.projects.remove_member(tx, project_id, user)
        await _members_changed(ctx, tx, me, project_id)


# --- join requests ----------------------------------------------------------------------


async def do_request_to_join(ctx: ServiceContext, me: UUID, project_id: UUID) -> JoinRequestOut:
    """A member of the project's workspace asks to join it."""
    async with ctx.database.transaction() as tx:
        seat = await lock_project(ctx, tx, project_id, me, roles=None)
        if seat.role is not None:
            raise AlreadyExists("you are a member of this project already", code="ALREADY_MEMBER")
        row = await store.join_requests.insert_join_request(tx, project_id, me)
        if row is None:
            raise AlreadyExists(
                "a request of yours is pending already", code="PENDING_REQUEST_EXISTS"
            )
    return request_out(row)


async def list_join_requests(
    ctx: ServiceContext, me: UUID, project_id: UUID, status: str | None
) -> list[JoinRequestOut]:
    async with ctx.database.connection() as conn:
        seat = await access_project(ctx, conn, project_id, me, roles=ADMINS, why=MANAGERS_ONLY)
        rows = await store.join_requests.join_requests_of_project(conn, project_id, status)
    return await _named(ctx, seat.workspace_id, [request_out(r) for r in rows])


async def decide_join_request(
    ctx: ServiceContext, me: UUID, request_id: UUID, status: str
) -> JoinRequestOut:
    """The project's OWNER or an ADMIN approves (the user becomes a MEMBER, if still in
    the workspace) or rejects a pending request."""
    async with ctx.database.transaction() as tx:
        project_id = await store.join_requests.join_request_project(tx, request_id)
        if project_id is None:
            raise NotFound("join request not found")
        try:
            seat = await lock_project(ctx, tx, project_id, me, roles=ADMINS, why=MANAGERS_ONLY)
        except NotFound:
            raise NotFound("join request not found") from None
        pending = await store.join_requests.join_request_for_update(tx, request_id)
        assert pending is not None  # requests go only with their project, which is locked
        if pending.status != "PENDING":
            raise BadRequest(f"this request was {pending.status.lower()} already")
        if status == "APPROVED":
            membership = await ctx.membership.get(str(seat.workspace_id), str(pending.user_id))
            if not membership.is_member:
                raise Conflict("the user has left the workspace; reject the request instead")
            await store.projects.add_member(tx, project_id, pending.user_id)
            await _members_changed(ctx, tx, me, project_id)
        decided = await store.join_requests.decide_join_request(tx, request_id, status)
        assert decided is not None
    return request_out(decided)
