"""``/api/chats/ws/{chatId}?token=[&after=<seq>]``: one chat's live messages (contract 6.2).

On connect the socket joins the chat's topic first, then reads what the client missed
(``after``) from the database and sends it before any live frame; a live frame the replay
already covered is dropped (:class:`~wealist.chat.sequencer.ChatSubscriber`). A message
sent here is acked (``MESSAGE_ACK``) only after it committed, and reaches every socket of
the chat - this one included - once, through the broker. Its user's removal from the chat
ends it at once (4403 after ``USER_LEFT``); access is re-checked at every heartbeat too,
so a removal from the chat's workspace ends it within one heartbeat.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath
from typing_extensions import override

from wealist.chat import store
from wealist.chat.actions.common import (
    access_chat,
    caller_id,
    message_out,
    parse_uuid,
    publish,
    settings_of,
)
from wealist.chat.actions.messages import do_mark_read, do_send, replay
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
    message_frame,
    reset_frame,
    typing_frame,
)
from wealist.chat.schemas import SendMessage
from wealist.chat.sequencer import ChatSubscriber
from wealist.chat.ws.common import (
    FORBIDDEN_CLOSE_CODE,
    RATE_CLOSE_CODE,
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
from wealist.core.realtime.ws import PONG, authenticate_socket, error_frame, run_session

__all__ = ("chat_socket",)

_decoder = msgspec.json.Decoder(ClientFrame)
PAGE = 500


def _after(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ValidationFailed("after must be a seq (a non-negative integer)")
    return int(raw)


class _Tails:
    """One process's recent reads of chats' newest seq (heartbeat gap checks share them)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[UUID, tuple[float, int]] = {}

    async def newest(self, ctx: ServiceContext, chat_id: UUID) -> int:
        now = time.monotonic()
        cached = self._seen.get(chat_id)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        async with ctx.database.connection() as conn:
            found = await store.last_seq(conn, chat_id) or 0
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[chat_id] = (now, found)
        return found


def _tails(ctx: ServiceContext) -> _Tails:
    found = ctx.state.get("chat_tails")
    if found is None:
        found = ctx.state["chat_tails"] = _Tails(settings_of(ctx).tail_cache_s)
    assert isinstance(found, _Tails)
    return found


async def _frames(
    ctx: ServiceContext, chat_id: UUID, after: int, upto: int
) -> list[tuple[int, str]]:
    """Message frames with ``after < seq <= upto``, read in pages."""
    found: list[tuple[int, str]] = []
    async with ctx.database.connection() as conn:
        while after < upto:
            rows = await store.messages_after(conn, chat_id, after, upto, PAGE)
            found += [(r.seq, message_frame(message_out(r))) for r in rows]
            if len(rows) < PAGE:
                break
            after = rows[-1].seq
    return found


class _SeatSubscriber(ChatSubscriber):
    """A participant's subscriber: the frame saying its user left (or was removed from)
    the chat is the last one it passes on, then its socket closes with 4403."""

    def __init__(self, me: UUID, chat_id: UUID, *args: Any) -> None:
        super().__init__(*args)
        self._left = member_frame(False, chat_id, me)

    @override
    def offer(self, frame: str) -> bool:
        accepted = super().offer(frame)
        if frame == self._left:
            self.shut(FORBIDDEN_CLOSE_CODE)
        return accepted


class _Session:
    """One admitted chat socket: its subscriber, its frames, its leases."""

    def __init__(
        self, ctx: ServiceContext, me: UUID, chat_id: UUID, after: int | None, conn: Connection
    ) -> None:
        self.ctx = ctx
        self.settings = settings_of(ctx)
        self.me = me
        self.chat_id = chat_id
        self.after = after
        self.conn = conn
        assert ctx.hub is not None
        self.sub = _SeatSubscriber(
            me, chat_id, ctx.hub.queue_size, self.fill, self.settings.gap_wait_s
        )
        self._checks: set[asyncio.Future[None]] = set()

    async def fill(self, since: int, upto: int) -> tuple[int, list[tuple[int, str]]]:
        """The sequencer's reads: the newest seq, and the frames in (since, upto]."""
        if upto <= since:
            return await _tails(self.ctx).newest(self.ctx, self.chat_id), []
        return upto, await _frames(self.ctx, self.chat_id, since, upto)

    async def on_joined(self, joined: Subscriber) -> list[str]:
        """Subscribed: what the client missed (``after``), to be sent before live frames."""
        async with self.ctx.database.connection() as conn:
            last = await store.last_seq(conn, self.chat_id) or 0
            if self.after is None:
                return self.sub.release(last, [], queue=False)
            if last - self.after > self.settings.replay_max:
                first = self.sub.release(last, [], queue=False)
                return [*first, reset_frame("too_far_behind", last)]
            _, rows = await replay(conn, self.chat_id, self.after, self.settings.replay_max)
        frames = [(m.seq, message_frame(m)) for m in rows]
        return self.sub.release(last, frames, queue=False)

    async def resume(self, since: int) -> None:
        """A ``RESUME`` frame: everything after ``since`` again, then live, no double."""
        self.sub.hold()
        frames: list[tuple[int, str]] = []
        last = self.sub.delivered
        try:
            async with self.ctx.database.connection() as conn:
                last = await store.last_seq(conn, self.chat_id) or 0
            if last - since > self.settings.replay_max:
                self.sub.offer(reset_frame("too_far_behind", last))
            else:
                frames = await _frames(self.ctx, self.chat_id, since, last)
        finally:
            self.sub.release(last, frames, queue=True)

    async def handle(self, frame: Any, joined: Subscriber) -> None:
        sub = self.sub
        if isinstance(frame, Ping):
            self.conn.heard_from_client(active=False)
            sub.offer(PONG)
            return
        self.conn.heard_from_client(active=True)
        if not self.conn.allow():
            if self.conn.strikes >= self.settings.ws_rate_strikes:
                sub.shut(RATE_CLOSE_CODE)
            else:
                sub.offer(error_frame("RATE_LIMITED", "too many frames; slow down"))
            return
        if isinstance(frame, Message):
            await self.send(frame)
        elif isinstance(frame, TypingStart | TypingStop):
            started = isinstance(frame, TypingStart)
            frame_text = typing_frame(started, str(self.me), str(self.chat_id))
            await publish(self.ctx, self.chat_id, frame_text)
        elif isinstance(frame, ReadMessage):
            await do_mark_read(self.ctx, self.me, [frame.message_id])
        elif isinstance(frame, Resume):
            await self.resume(frame.after)

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
        """The heartbeat frame (with the newest seq sent), and a check for a quiet gap."""
        check = asyncio.ensure_future(self._tail_check())
        self._checks.add(check)
        check.add_done_callback(self._checks.discard)
        return heartbeat_frame(self.sub.delivered)

    async def _tail_check(self) -> None:
        # Access first: a user removed from the chat's workspace (or the chat) meanwhile
        # is sent nothing more.
        try:
            async with self.ctx.database.connection() as conn:
                await access_chat(self.ctx, conn, self.chat_id, self.me)
        except (NotFound, Forbidden):
            self.sub.shut(FORBIDDEN_CLOSE_CODE)
            return
        except Exception as exc:  # noqa: BLE001  # an outage: keep the socket, check again
            self.ctx.log.warning("chat.access_check_failed", error=type(exc).__name__)
        # The last message of a burst may have been committed by a process that died
        # before publishing it; nothing later would reveal the gap.
        try:
            newest = await _tails(self.ctx).newest(self.ctx, self.chat_id)
            if newest > self.sub.delivered:
                await self.sub.catch_up(newest)
        except Exception as exc:  # noqa: BLE001  # the next heartbeat checks again
            self.ctx.log.warning("chat.tail_check_failed", error=type(exc).__name__)

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
                )
        finally:
            self.sub.stop()
            for check in list(self._checks):
                check.cancel()
            await self.conn.close()


@websocket("/api/chats/ws/{chatId:str}")
async def chat_socket(socket: WebSocket[Any, Any, Any], ctx: Ctx, chatId: FromPath[str]) -> None:  # noqa: N803
    principal = await authenticate_socket(socket, ctx.verifier)
    if principal is None:
        return
    me = caller_id(principal)
    try:
        chat_id = parse_uuid(chatId, "chatId")
        after = _after(socket.query_params.get("after"))
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
    await _Session(ctx, me, chat_id, after, connection).run(socket)
