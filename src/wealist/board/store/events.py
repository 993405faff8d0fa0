"""The live board's event log (what sockets are sent, by per-project sequence number)."""

from __future__ import annotations

from uuid import UUID

from wealist.board.rows import EventBoundsRow
from wealist.board.store.sql import Q
from wealist.core.db import Conn


async def append_event(conn: Conn, project_id: UUID, rest: str) -> str:
    """Stores the project's next event; ``rest`` is its JSON after the leading ``{``."""
    frame = await conn.fetch_val(Q().append_event, {"project": project_id, "rest": rest})
    if frame is None:
        raise LookupError(f"project {project_id} is gone")
    return str(frame)


async def events_after(
    conn: Conn, project_id: UUID, after: int, upto: int | None, limit: int
) -> list[str]:
    params = {"project": project_id, "after": after, "upto": upto, "limit": limit}
    return await conn.fetch_column(Q().events_after, params)


async def event_bounds(conn: Conn, project_id: UUID) -> EventBoundsRow | None:
    return await conn.fetch_one(Q().event_bounds, {"project": project_id}, EventBoundsRow)


async def prune_events(conn: Conn, age_s: float) -> int:
    return await conn.execute(Q().prune_events, {"age": age_s})
