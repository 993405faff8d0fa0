"""Notifications board changes cause, requested from the noti service through the outbox.

Each change computes who hears about it, at most once per person: the assignee gets
``BOARD_ASSIGNED``, the one who lost the task ``BOARD_UNASSIGNED``, new participants
``BOARD_PARTICIPANT_ADDED``, and everyone else involved (assignee, participants, never the
actor) ``BOARD_STATUS_CHANGED`` for a new stage or ``BOARD_UPDATED`` with the changed
fields. All of a change's requests are written in its transaction in one round trip
(:func:`~wealist.core.outbox.enqueue_many`); the relay delivers them at least once and the
noti service applies each event id once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from wealist.board.rows import BoardRow
from wealist.contracts.events import NOTIFICATION_REQUESTED, NotificationRequested
from wealist.core.db import Tx
from wealist.core.outbox import enqueue_many

__all__ = ("Notices", "board_notices", "involved")

PREVIEW = 100  # characters of a comment in its notification (contract 5.8)
SYSTEM_USER = UUID("00000000-0000-0000-0000-000000000001")  # the actor of scheduled notices


class Notices:
    """The notifications of one change: one per person, the first kind named wins."""

    def __init__(self, actor: UUID | None, board: BoardRow, project_name: str) -> None:
        self.actor = actor
        self.board = board
        self.project_name = project_name
        self._by_target: dict[UUID, tuple[str, dict[str, Any]]] = {}

    def add(self, kind: str, targets: Iterable[UUID | None], **metadata: Any) -> None:
        for target in targets:
            if target is None or target == self.actor or target in self._by_target:
                continue
            self._by_target[target] = (kind, metadata)

    async def send(self, tx: Tx) -> None:
        board = self.board
        base = {"projectId": str(board.project_id), "projectName": self.project_name}
        await enqueue_many(
            tx,
            [
                (
                    NOTIFICATION_REQUESTED,
                    NotificationRequested(
                        type=kind,
                        actor_id=str(self.actor or SYSTEM_USER),
                        target_user_id=str(target),
                        workspace_id=str(board.workspace_id),
                        resource_type="board",
                        resource_id=str(board.id),
                        resource_name=board.title,
                        metadata={**base, **metadata},
                    ),
                )
                for target, (kind, metadata) in self._by_target.items()
            ],
        )


def involved(board: BoardRow) -> list[UUID | None]:
    """Who follows a board: its assignee and participants (and its author)."""
    return [board.assignee_id, *board.participant_ids, board.author_id]


def board_notices(
    actor: UUID,
    before: BoardRow | None,
    after: BoardRow,
    project_name: str,
    changes: list[dict[str, str | None]],
) -> Notices:
    """What creating (``before`` None) or changing a board tells whom."""
    notices = Notices(actor, after, project_name)
    if before is None or before.assignee_id != after.assignee_id:
        notices.add("BOARD_ASSIGNED", [after.assignee_id])
    if before is not None and before.assignee_id != after.assignee_id:
        notices.add("BOARD_UNASSIGNED", [before.assignee_id])
    old_participants = set(before.participant_ids) if before is not None else set()
    notices.add(
        "BOARD_PARTICIPANT_ADDED", [p for p in after.participant_ids if p not in old_participants]
    )
    if before is None or not changes:
        return notices
    stage = next((c for c in changes if c["field"] == "stage"), None)
    followers = [after.assignee_id, *after.participant_ids]
    if stage is not None:
        notices.add(
            "BOARD_STATUS_CHANGED",
            followers,
            oldStage=stage["oldValue"] or "",
            newStage=stage["newValue"] or "",
            changes=changes,
        )
    notices.add("BOARD_UPDATED", followers, changes=changes)
    return notices


def comment_preview(text: str) -> str:
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
