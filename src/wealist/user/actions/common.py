"""What every user-service action shares: ids, access checks, cache writes, notifications.

Access policy (one rule for every route): whoever is not an active member of an active
workspace gets 404 for it, exactly as if it did not exist; a member whose role does not
allow an action gets 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import msgspec
from redis.exceptions import RedisError

from wealist.contracts import topics
from wealist.contracts.events import NOTIFICATION_REQUESTED, NotificationRequested
from wealist.contracts.membership import (
    CACHE_TTL_S,
    SET_IF_NEWER,
    Membership,
    Role,
    access_lost,
    membership_key,
)
from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.core.errors import Forbidden, NotFound, Unauthorized
from wealist.core.ids import parse_uuid
from wealist.core.outbox import enqueue
from wealist.core.security import Principal
from wealist.user import store
from wealist.user.rows import SeatRow

__all__ = (
    "MANAGERS",
    "SYSTEM_USER_ID",
    "WORKSPACE_NOT_FOUND",
    "access_workspace",
    "caller_id",
    "membership_answer",
    "notify",
    "parse_uuid",
    "require_manager",
    "write_memberships",
)

SYSTEM_USER_ID = UUID("00000000-0000-0000-0000-000000000001")  # seeded by 0001_users.sql
MANAGERS = frozenset({"OWNER", "ADMIN"})
WORKSPACE_NOT_FOUND = "workspace not found"

_encode = msgspec.json.Encoder().encode


def caller_id(caller: Principal) -> UUID:
    try:
        return UUID(caller.user_id)
    except ValueError:  # tokens of this system always carry a UUID subject
        raise Unauthorized("the token's subject is not a user id") from None


async def access_workspace(
    conn: Conn, workspace_id: UUID, user: UUID, *, lock: bool = False
) -> SeatRow:
    """The workspace with the caller's seat in it; 404 unless the caller is a member.

    ``lock`` takes the workspace row's lock for the rest of the transaction, so that
    membership changes of one workspace apply one at a time.
    """
    if lock:
        seat = await store.lock_workspace_for_member(conn, workspace_id, user)
    else:
        seat = await store.workspace_seen_by_member(conn, workspace_id, user)
    if seat is None:
        raise NotFound(WORKSPACE_NOT_FOUND)
    return seat


def require_manager(seat: SeatRow) -> None:
    if seat.role not in MANAGERS:
        raise Forbidden("only the workspace owner or an admin can do this")


def membership_answer(
    workspace_id: UUID, user: UUID, *, role: str | None, active: bool, version: int
) -> Membership:
    checked: Role | None = None
    if active and role in {"OWNER", "ADMIN", "MEMBER"}:
        checked = role  # type: ignore[assignment]  # narrowed by the set test
    return Membership(
        workspace_id=str(workspace_id),
        user_id=str(user),
        is_member=checked is not None,
        role=checked,
        version=version,
    )


async def write_memberships(ctx: ServiceContext, answers: Iterable[Membership]) -> None:
    """Store answers in the shared cache unless it holds newer ones (one pipeline), and
    tell the sockets of each user who lost a membership to re-check their access (after
    the write, in the same pipeline: their check reads the new answer).

    Runs after commit. A failure is logged, not raised: the change is committed, the
    cached answer it failed to replace expires within ``CACHE_TTL_S``, and sockets
    re-check periodically anyway.
    """
    answers = list(answers)
    if not answers:
        return
    script = ctx.redis.register_script(SET_IF_NEWER)
    try:
        async with ctx.redis.pipeline(transaction=False) as pipe:
            for answer in answers:
                await script(
                    keys=[membership_key(answer.workspace_id, answer.user_id)],
                    args=[_encode(answer), answer.version, CACHE_TTL_S],
                    client=pipe,
                )
                if not answer.is_member:
                    signal = access_lost(answer.workspace_id)
                    await pipe.publish(topics.access(answer.user_id), signal)
            await pipe.execute()
    except RedisError as exc:
        ctx.log.warning(
            "membership.cache_write_failed", error=type(exc).__name__, count=len(answers)
        )


async def notify(
    tx: Tx,
    *,
    kind: str,
    actor: UUID,
    target: UUID,
    workspace_id: UUID,
    workspace_name: str,
    metadata: dict[str, str] | None = None,
) -> None:
    """Ask the noti service, through the outbox, to tell ``target`` about a workspace."""
    await enqueue(
        tx,
        NOTIFICATION_REQUESTED,
        NotificationRequested(
            type=kind,
            actor_id=str(actor),
            target_user_id=str(target),
            workspace_id=str(workspace_id),
            resource_type="workspace",
            resource_id=str(workspace_id),
            resource_name=workspace_name,
            metadata=metadata,
        ),
    )
