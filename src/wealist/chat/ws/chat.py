"""``/api/chats/ws/{chatId}?token=[&rev=<rev>|&after=<seq>]``: one chat's live events
(contract 6.2, extended).

On connect the socket joins the chat's topic first, then reads what the client missed
from the event log and sends it before any live frame: every event after ``rev`` (the
last one the client applied), or, for clients that only know message seqs, every event
after the one that announced message ``after``. A live frame the replay already covered
is dropped (:class:`~wealist.chat.sequencer.ChatSubscriber`). A resume point the log no
longer holds (or never held) is answered with ``RESET``: refetch, then follow. A message
sent here is acked (``MESSAGE_ACK``) only after it committed, and reaches every socket of
the chat - this one included - once, through the broker. Its user's removal from the chat
ends it at once (4403 after ``USER_LEFT``), so does the user service's signal that its
user left the workspace; access is re-checked at every heartbeat too, together with a
check for events it missed - both by the process's checker, for all due sockets in one
query (:mod:`wealist.chat.ws.checks`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath
from typing_extensions import override

from wealist.chat import store
from wealist.chat.actions.common import (
    CHAT_NOT_FOUND,
    access_chat,
    caller_id,
    parse_uuid,
    publish,
    settings_of,
)
from wealist.chat.actions.events import replay, resume_point
from wealist.chat.actions.messages import do_mark_read, do_send
from wealist.chat.frames import (
    ClientFrame,
    Message,
    Ping,
    ReadMessage,
    Resume,
    TypingStart,
    TypingStop,
    ack_frame,
    heartbeat_frame,
    member_frame,
    reset_frame,
    typing_frame,
)
from wealist.chat.rows import TailRow
from wealist.chat.schemas import SendMessage
from wealist.chat.sequencer import ChatSubscriber
from wealist.chat.ws.checks import SocketCheck, checks_of
from wealist.chat.ws.common import (
    FORBIDDEN_CLOSE_CODE,
    TOO_MANY_SOCKETS_CLOSE_CODE,
    Connection,
    close_code_for,
    limits_of,
    refuse,
)
from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.deps import Ctx
from wealist.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from wealist.core.realtime.hub import Subscriber
from wealist.core.realtime.ws import PONG, AccessWatch, authenticate_socket, run_session

__all__ = ("chat_socket",)

_decoder = msgspec.json.Decoder(ClientFrame)
PAGE = 500


def _cursor(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(f"{name} must be a non-negative integer")
    return int(raw)


async def _frames(
    ctx: ServiceContext, chat_id: UUID, after: int, upto: int
) -> list[tuple[int, str]]:
    """Events with ``after < rev <= upto``, read in pages."""
    found: list[tuple[int, str]] = []
    async with ctx.database.connection() as conn:
        while after < upto:
            rows = await store.events_after(conn, chat_id, after, upto, PAGE)
            found += [(r.rev, r.frame) for r in rows]
            if len(rows) < PAGE:
                break
            after = rows[-1].rev
    return found


class _SeatSubscriber(ChatSubscriber):
    """A participant's subscriber: the frame saying its user left (or was removed from)
    the chat is the last one it passes on, then its socket closes with 4403. After a
    broker outage it asks the process's checker (``on_gap``) instead of reading the tail
    itself: a thousand sockets resync with one query."""

    def __init__(
        self, me: UUID, chat_id: UUID, on_gap: Callable[[], Awaitable[None]], *args: Any
    ) -> None:
        super().__init__(*args)
        self.on_gap = on_gap
        self._left = member_frame(False, chat_id, me)[1:]  # after the event's rev

    @override
    def offer(self, frame: str) -> bool:
        accepted = super().offer(frame)
        if frame.endswith(self._left):
            self.shut(FORBIDDEN_CLOSE_CODE)
        return accepted


class _Session:
    """One admitted chat socket: its subscriber, its frames, its leases."""

    def __init__(
        self, ctx: ServiceContext, me: UUID, chat_id: UUID, start: Resume | None, conn: Connection
    ) -> None:
        self.ctx = ctx
        self.settings = settings_of(ctx)
        self.me = me
        self.chat_id = chat_id
        self.start = start
        self.conn = conn
        assert ctx.hub is not None
        self.sub = _SeatSubscriber(
            me, chat_id, self._gap, ctx.hub.queue_size, self.fill, self.settings.gap_wait_s
        )
        self.checks = checks_of(ctx)
        self.check = SocketCheck(chat_id, me, self.sub)

    async def fill(self, since: int, upto: int) -> tuple[int, list[tuple[int, str]]]:
        """The sequencer's reads: the newest rev, and the events in (since, upto]."""
        if upto <= since:
            async with self.ctx.database.connection() as conn:
                tail = await store.chat_tail(conn, self.chat_id)
            return (0 if tail is None else tail.last_rev), []
        return upto, await _frames(self.ctx, self.chat_id, since, upto)

    async def _gap(self) -> None:
        """Pub/sub may have dropped events (the broker reconnected): check at the next tick."""
        self.checks.due(self.check)

    async def _missed(self, start: Resume | None) -> tuple[TailRow, list[tuple[int, str]], str]:
        """The chat's tail, and what a client resuming from ``start`` missed (None: it
        starts now) or a ``RESET`` frame ("" if none)."""
        async with self.ctx.database.connection() as conn:
            if start is None:
                tail = await store.chat_tail(conn, self.chat_id)
                if tail is None:
                    raise NotFound(CHAT_NOT_FOUND)
                return tail, [], ""
            since = await resume_point(conn, self.chat_id, start.after, start.rev)
            found = await replay(self.ctx, conn, self.chat_id, since)
        tail, why = found.tail, found.reset
        reset = "" if why is None else reset_frame(why, tail.last_seq, tail.last_rev)
        return tail, found.frames, reset

    async def on_joined(self, joined: Subscriber) -> list[str]:
        """Subscribed: what the client missed, to be sent before live frames."""
        tail, frames, reset = await self._missed(self.start)
        first = self.sub.release(tail.last_rev, frames, queue=False, seq=tail.last_seq)
        return [*first, reset] if reset else first

    async def resume(self, start: Resume) -> None:
        """A ``RESUME`` frame: every event after its point again, then live, no double."""
        self.sub.hold()
        try:
            tail, frames, reset = await self._missed(start)
        except BaseException:
            self.sub.release(self.sub.delivered, [], queue=True)
            raise
        if reset:
            self.sub.offer(reset)
        self.sub.release(tail.last_rev, frames, queue=True, seq=tail.last_seq)

    async def handle(self, frame: Any, joined: Subscriber) -> None:
        sub = self.sub
        if isinstance(frame, Ping):
            self.conn.heard_from_client(active=False)
            sub.offer(PONG)
            return
        self.conn.heard_from_client(active=True)
        if isinstance(frame, Message):
            await self.send(frame)
        elif isinstance(frame, TypingStart | TypingStop):
            started = isinstance(frame, TypingStart)
            frame_text = typing_frame(started, str(self.me), str(self.chat_id))
            await publish(self.ctx, self.chat_id, frame_text)
        elif isinstance(frame, ReadMessage):
            await do_mark_read(self.ctx, self.me, [frame.message_id])
        elif isinstance(frame, Resume):
            await self.resume(frame)

    async def send(self, frame: Message) -> None:
        """Store, then ack (after commit); an error frame names the clientMessageId."""
        new = SendMessage(
            content=frame.content,
            message_type=frame.message_type,
            file_url=frame.file_url,
            file_name=frame.file_name,
            file_size=frame.file_size,
            client_message_id=frame.client_message_id,
            mentions=frame.mentions,
        )
        try:
            message, _ = await do_send(self.ctx, self.me, self.chat_id, new, admitted=True)
        except AppError as exc:
            body = {"type": "ERROR", "code": exc.code, "message": exc.message}
            if frame.client_message_id is not None:
                body["clientMessageId"] = frame.client_message_id
            self.sub.offer(msgspec.json.encode(body).decode())
            return
        self.sub.offer(ack_frame(frame.client_message_id, message))

    def heartbeat(self) -> str:
        """The heartbeat frame (with the newest seq and rev sent); the socket's access
        and a quiet gap are checked at the checker's next tick."""
        self.checks.due(self.check)
        return heartbeat_frame(self.sub.seq, self.sub.delivered)

    async def still_allowed(self, _workspace: str = "") -> bool:
        """Whether its user may still read the chat (not removed from its workspace or
        from the chat meanwhile), asked when the user service signals a lost workspace;
        an outage raises."""
        try:
            async with self.ctx.database.connection() as conn:
                await access_chat(self.ctx, conn, self.chat_id, self.me)
        except (NotFound, Forbidden):
            return False
        return True

    async def run(self, socket: WebSocket[Any, Any, Any]) -> None:
        assert self.ctx.hub is not None
        try:
            async with self.conn.watchdog(self.sub):
                await run_session(
                    socket,
                    self.ctx.hub,
                    topics=[topics.chat(str(self.chat_id))],
                    decoder=_decoder,
                    handler=self.handle,
                    limits=limits_of(self.ctx),
                    heartbeat=self.heartbeat,
                    subscriber=self.sub,
                    on_joined=self.on_joined,
                    access=AccessWatch(str(self.me), self.still_allowed),
                )
        finally:
            self.checks.forget(self.check)
            self.sub.stop()
            await self.conn.close()


@websocket("/api/chats/ws/{chatId:str}")
async def chat_socket(socket: WebSocket[Any, Any, Any], ctx: Ctx, chatId: FromPath[str]) -> None:  # noqa: N803
    principal = await authenticate_socket(socket, ctx)
    if principal is None:
        return
    me = caller_id(principal)
    try:
        chat_id = parse_uuid(chatId, "chatId")
        after = _cursor(socket.query_params.get("after"), "after")
        rev = _cursor(socket.query_params.get("rev"), "rev")
        start = None if after is None and rev is None else Resume(after=after, rev=rev)
        async with ctx.database.connection() as conn:
            seat = await access_chat(ctx, conn, chat_id, me)
    except AppError as exc:
        await socket.close(code=close_code_for(exc), reason=exc.message[:100])
        return
    connection = Connection(ctx, str(me), [str(seat.workspace_id)])
    if not await connection.open():
        await refuse(
            socket, TOO_MANY_SOCKETS_CLOSE_CODE, "TOO_MANY_SOCKETS", "too many open sockets"
        )
        return
    await _Session(ctx, me, chat_id, start, connection).run(socket)
