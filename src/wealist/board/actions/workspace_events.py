"""What the board does when the user service says a workspace changed (outbox events,
applied once per event id by the kernel's ``/api/internal/events/board``)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from wealist.board import store
from wealist.board.actions import live
from wealist.board.actions.attachments import purge_soon
from wealist.contracts.events import (
    WORKSPACE_DELETED,
    WORKSPACE_MEMBER_REMOVED,
    EventEnvelope,
    WorkspaceDeleted,
    WorkspaceMemberRemoved,
)
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.events import EventHandler

__all__ = ("HANDLERS",)


async def workspace_deleted(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    """Every project of the workspace goes, with its files; open sockets hear it."""
    body = msgspec.json.decode(event.payload, type=WorkspaceDeleted)
    workspace_id, actor = UUID(body.workspace_id), UUID(body.deleted_by)
    for project in await store.projects.projects_of_workspace(tx, workspace_id):
        gone = {"projectId": project.id}
        await live.emit(ctx, tx, project.id, live.PROJECT_DELETED, gone, actor=actor)
    await store.attachments.discard_workspace(tx, workspace_id)
    await store.projects.delete_workspace_projects(tx, workspace_id)
    tx.on_commit(lambda: purge_soon(ctx))


async def member_removed(ctx: ServiceContext, tx: Tx, event: EventEnvelope) -> None:
    """The user leaves every project of the workspace (not one they own: its owner stays
    until the workspace's owner reassigns or deletes it)."""
    body = msgspec.json.decode(event.payload, type=WorkspaceMemberRemoved)
    await store.projects.remove_user_everywhere(tx, UUID(body.workspace_id), UUID(body.user_id))


HANDLERS: dict[str, EventHandler] = {
    WORKSPACE_DELETED: workspace_deleted,
    WORKSPACE_MEMBER_REMOVED: member_removed,
}
