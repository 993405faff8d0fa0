"""The chat sockets' periodic checks, for every due socket of a process at once.

At each heartbeat a chat socket asks two things: may its user still read the chat (not
removed from it or from its workspace meanwhile), and did it miss the chat's last events
(a process that committed a message died before publishing it, or pub/sub dropped it)?
Asked socket by socket, a thousand sockets take ~80 pooled connections a second from the
sends. Here a socket whose check is due joins the process's next tick instead, and the
tick answers all of them with one query (:func:`~wealist.chat.store_sockets.socket_seats`:
seat and newest rev per (chat, user)) and one Redis round trip for the memberships.

- No seat (the chat is gone), not an active participant, or no longer a member of the
  workspace: the socket closes with 4403, as before.
- Behind the chat's newest rev: a frame may still be on its way, so the socket catches
  up from the event log only if it is still behind ``gap_wait_s`` later.
- A tick that fails (the database or Redis away) closes nothing: its sockets are checked
  again at the next tick, and one line says how many waited. A membership nobody could
  confirm keeps its socket the same way.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import msgspec
from redis.exceptions import RedisError

from wealist.chat.actions.common import settings_of
from wealist.chat.actions.presence import presence_of
from wealist.chat.sequencer import ChatSubscriber
from wealist.chat.store_sockets import SocketSeatRow, socket_seats
from wealist.chat.ws.common import FORBIDDEN_CLOSE_CODE
from wealist.contracts.membership import Membership, membership_key
from wealist.core.context import ServiceContext

__all__ = ("SocketCheck", "SocketChecks", "checks_of")

_membership = msgspec.json.Decoder(Membership).decode
Pair = tuple[str, str]  # (workspace, user)


class SocketCheck:
    """What the checks need of one socket: whose it is, which chat, its subscriber."""

    __slots__ = ("chat_id", "sub", "user_id")

    def __init__(self, chat_id: UUID, user_id: UUID, sub: ChatSubscriber) -> None:
        self.chat_id = chat_id
        self.user_id = user_id
        self.sub = sub


class SocketChecks:
    """One process's checker: collects due sockets, answers them once per tick."""

    def __init__(self, ctx: ServiceContext, *, tick_s: float, grace_s: float) -> None:
        self.ctx = ctx
        self.tick_s = tick_s
        self.grace_s = grace_s
        self._due: dict[int, SocketCheck] = {}  # by subscriber id: due once, however often asked
        self._ticker: asyncio.Task[None] | None = None
        self._catching_up: set[asyncio.Future[None]] = set()
        self.ticks = 0  # ticks that checked something (tests and metrics read deltas)
        self.checked = 0  # socket checks answered
        self.failed_ticks = 0

    def due(self, check: SocketCheck) -> None:
        """Check this socket at the next tick."""
        self._due[check.sub.id] = check
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick_while_due())

    def forget(self, check: SocketCheck) -> None:
        """The socket closed: no check for it any more."""
        self._due.pop(check.sub.id, None)

    async def _tick_while_due(self) -> None:
        try:
            while self._due:
                await asyncio.sleep(self.tick_s)  # collects the sockets due meanwhile
                await self.run_once()
        finally:
            self._ticker = None

    async def run_once(self) -> None:
        """Check every socket due now (one query, one Redis round trip, whatever their number)."""
        batch = [c for c in self._due.values() if not c.sub.closed.is_set()]
        self._due.clear()
        if not batch:
            return
        self.ticks += 1
        try:
            seats = await self._seats(batch)
            members = await self._memberships(
                {(str(s.workspace_id), str(s.user_id)) for s in seats.values() if s.active}
            )
        except Exception as exc:  # noqa: BLE001  # an outage: keep every socket, ask again
            self.failed_ticks += 1
            self.ctx.log.warning(
                "chat.socket_checks_failed", sockets=len(batch), error=type(exc).__name__
            )
            self._retry(batch)
            return
        unknown = [c for c in batch if not self._apply(c, seats, members)]
        self.checked += len(batch) - len(unknown)
        if unknown:
            self.ctx.log.warning("chat.socket_access_unknown", sockets=len(unknown))
            self._retry(unknown)

    def _apply(
        self,
        check: SocketCheck,
        seats: dict[tuple[UUID, UUID], SocketSeatRow],
        members: dict[Pair, bool | None],
    ) -> bool:
        """Act on one socket's answer; False when its membership could not be told."""
        seat = seats.get((check.chat_id, check.user_id))
        member = None if seat is None else members.get((str(seat.workspace_id), str(seat.user_id)))
        if seat is None or not seat.active or member is False:
            check.sub.shut(FORBIDDEN_CLOSE_CODE)
            return True
        if seat.last_rev > check.sub.delivered:
            self._catch_up_later(check.sub, seat.last_rev)
        return member is not None

    async def _seats(self, batch: list[SocketCheck]) -> dict[tuple[UUID, UUID], SocketSeatRow]:
        pairs = list(dict.fromkeys((c.chat_id, c.user_id) for c in batch))
        async with self.ctx.database.connection() as conn:
            rows = await socket_seats(conn, pairs)
        return {(r.chat_id, r.user_id): r for r in rows}

    async def _memberships(self, pairs: set[Pair]) -> dict[Pair, bool | None]:
        """Whether each user is still a member of each workspace: one MGET of the cached
        answers; a miss asks the user service (None: nobody could say)."""
        asked = sorted(pairs)
        if not asked:
            return {}
        keys = [membership_key(w, u) for w, u in asked]
        try:
            cached = await presence_of(self.ctx).batch.call(lambda pipe: pipe.mget(keys))
        except RedisError:
            cached = [None] * len(keys)  # the user service answers instead
        found: dict[Pair, bool | None] = {}
        misses: list[Pair] = []
        for pair, raw in zip(asked, cached, strict=True):
            try:
                found[pair] = _membership(raw).is_member if raw is not None else None
            except msgspec.DecodeError:
                found[pair] = None
            if found[pair] is None:
                misses.append(pair)
        membership = self.ctx.membership
        answers = await asyncio.gather(
            *(membership.get(w, u) for w, u in misses), return_exceptions=True
        )
        for pair, answer in zip(misses, answers, strict=True):
            found[pair] = None if isinstance(answer, BaseException) else answer.is_member
        return found

    def _retry(self, checks: list[SocketCheck]) -> None:
        for check in checks:
            if not check.sub.closed.is_set():
                self.due(check)

    def _catch_up_later(self, sub: ChatSubscriber, newest: int) -> None:
        """Read what the socket missed if, ``grace_s`` from now, it is still behind (a
        frame published a moment ago is usually on its way)."""

        def start() -> None:
            if sub.closed.is_set() or sub.delivered >= newest:
                return
            task = asyncio.ensure_future(sub.catch_up(newest))
            self._catching_up.add(task)
            task.add_done_callback(self._catching_up.discard)

        asyncio.get_running_loop().call_later(self.grace_s, start)


def checks_of(ctx: ServiceContext) -> SocketChecks:
    """The context's :class:`SocketChecks` (made on first use)."""
    found = ctx.state.get("chat_socket_checks")
    if found is None:
        settings = settings_of(ctx)
        # A few ticks per heartbeat: a socket waits less than one for its answer.
        tick_s = min(1.0, max(0.05, settings.ws_heartbeat_s / 4))
        found = SocketChecks(ctx, tick_s=tick_s, grace_s=settings.gap_wait_s)
        ctx.state["chat_socket_checks"] = found
    assert isinstance(found, SocketChecks)
    return found
