"""Join requests: ask to join a public workspace; the OWNER or an ADMIN decides."""

from __future__ import annotations

from uuid import UUID

from wealist.core.context import ServiceContext
from wealist.core.errors import Conflict, NotFound
from wealist.user import store
from wealist.user.actions.common import (
    WORKSPACE_NOT_FOUND,
    access_workspace,
    membership_answer,
    notify,
    require_manager,
    write_memberships,
)
from wealist.user.actions.members import MEMBERS_PAGE_MAX, add_member
from wealist.user.rows import JoinRequestRow
from wealist.user.schemas import JoinRequestOut

__all__ = ("do_decide", "do_request_to_join", "list_pending")

REQUEST_NOT_FOUND = "join request not found in this workspace"


def join_request_out(row: JoinRequestRow) -> JoinRequestOut:
    return JoinRequestOut(
        join_request_id=row.id,
        workspace_id=row.workspace_id,
        user_id=row.user_id,
        status=row.status,
        requested_at=row.requested_at,
        updated_at=row.updated_at,
        user_email=row.user_email,
        nick_name=row.nick_name,
        workspace_name=row.workspace_name,
    )


async def do_request_to_join(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> JoinRequestOut:
    """A PENDING request, or, when the workspace needs no approval, membership at once
    (recorded as an APPROVED request). Private workspaces are not discoverable: 404."""
    async with ctx.database.transaction() as tx:
        workspace = await store.lock_workspace(tx, workspace_id)
        if workspace is None or not workspace.is_public:
            raise NotFound(WORKSPACE_NOT_FOUND)
        current = await store.membership(tx, workspace_id, me)
        if current is not None and current.is_member:
            raise Conflict("you are already a member of this workspace", code="ALREADY_MEMBER")
        status = "PENDING" if workspace.need_approved else "APPROVED"
        request_id = await store.insert_join_request(tx, workspace_id, me, status)
        if request_id is None:
            raise Conflict(
                "you already asked to join this workspace", code="PENDING_REQUEST_EXISTS"
            )
        if status == "APPROVED":
            version = await add_member(tx, workspace_id, me, "MEMBER")
            if version is not None:
                answer = membership_answer(
                    workspace_id, me, role="MEMBER", active=True, version=version
                )
                tx.on_commit(lambda: write_memberships(ctx, [answer]))
        row = await store.join_request_view(tx, request_id)
        assert row is not None  # inserted in this transaction
    return join_request_out(row)


async def list_pending(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> list[JoinRequestOut]:
    async with ctx.database.connection() as conn:
        require_manager(await access_workspace(conn, workspace_id, me))
        rows = await store.list_pending_join_requests(conn, workspace_id, MEMBERS_PAGE_MAX)
    return [join_request_out(r) for r in rows]


async def do_decide(
    ctx: ServiceContext, me: UUID, workspace_id: UUID, ref: UUID, status: str
) -> JoinRequestOut:
    """Approve or reject a request named by its id, or the pending request of a user
    (``ref`` is either). Approving someone who is already a member just closes it."""
    async with ctx.database.transaction() as tx:
        seat = await access_workspace(tx, workspace_id, me, lock=True)
        require_manager(seat)
        request = await store.find_join_request(tx, workspace_id, ref)
        if request is None:
            raise NotFound(REQUEST_NOT_FOUND)
        if request.status != "PENDING":
            raise Conflict(f"this join request was already {request.status.lower()}")
        await store.decide_join_request(tx, request.id, status)
        if status == "APPROVED":
            version = await add_member(tx, workspace_id, request.user_id, "MEMBER")
            if version is not None:
                await notify(
                    tx,
                    kind="WORKSPACE_INVITED",
                    actor=me,
                    target=request.user_id,
                    workspace_id=workspace_id,
                    workspace_name=seat.workspace_name,
                    metadata={"role": "MEMBER", "reason": "join_request_approved"},
                )
                answer = membership_answer(
                    workspace_id, request.user_id, role="MEMBER", active=True, version=version
                )
                tx.on_commit(lambda: write_memberships(ctx, [answer]))
        row = await store.join_request_view(tx, request.id)
        assert row is not None
    return join_request_out(row)
