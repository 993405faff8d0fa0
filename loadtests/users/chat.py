"""A team member in the team's group chat over the chat WebSocket.

Each user keeps one socket open (a reader greenlet) and sends a message every few seconds
with a ``clientMessageId``. Samples: "WS chat send->ack" (the sender's own socket gets the
commit acknowledgement), "WS chat send->receive" (another participant's socket gets the
message: one sample per receiving socket) and "WS chat connect" (the handshake). Seqs are
checked per socket: a gap or a repeat is a failure, and so is an ack that never comes.
A dropped socket reconnects with ``?after=<last seq>``, as the frontend would.
"""

from __future__ import annotations

import json
import time

import gevent
import websocket
from locust import FastHttpUser, between, task
from typing_extensions import override

from loadtests.users.common import SEATS, SEED, URLS, DeliveryError, Sent, Session, new_marker
from loadtests.users.common import report as _report

MESSAGES = Sent()
# A message frame is an event of the chat: '{"rev":<n>,"type":"MESSAGE_RECEIVED",...'
MESSAGE_MARK = ',"type":"MESSAGE_RECEIVED",'
ACK_PREFIX = '{"type":"MESSAGE_ACK"'
ACK_WITHIN_S = 10.0
WS_BASE = URLS["chat"].replace("http://", "ws://", 1)


class ChatUser(FastHttpUser):
    weight = 3
    wait_time = between(2, 4)
    host = URLS["chat"]

    @override
    def on_start(self) -> None:
        self.me = SEATS.take("chat")
        self.session = Session(self, self.me)
        self.session.sign_in()
        self.chat_id: str = SEED.teams[self.me.team]["chatId"]
        self.last_seq: int | None = None
        self.acks: dict[str, float] = {}
        self.stopping = False
        self.socket: websocket.WebSocket | None = None
        self._connect()
        self.reader = gevent.spawn(self._read)

    @override
    def on_stop(self) -> None:
        self.stopping = True
        self.reader.kill(block=False)
        if self.socket is not None:
            self.socket.close()

    def report(self, name: str, elapsed_s: float, **kw: object) -> None:
        _report(self.environment, "WS", name, elapsed_s, **kw)  # type: ignore[arg-type]

    # --- the socket -----------------------------------------------------------------

    def _connect(self) -> None:
        url = f"{WS_BASE}/api/chats/ws/{self.chat_id}?token={self.session.token()}"
        if self.last_seq is not None:
            url += f"&after={self.last_seq}"  # the server replays what this socket missed
        started = time.perf_counter()
        try:
            self.socket = websocket.create_connection(url, timeout=30, enable_multithread=True)
        except (OSError, websocket.WebSocketException) as exc:
            self.report("chat connect", time.perf_counter() - started, error=exc)
            self.socket = None
            return
        self.report("chat connect", time.perf_counter() - started)

    def _read(self) -> None:
        while not self.stopping:
            if self.socket is None:
                gevent.sleep(1.0)
                self._connect()
                continue
            try:
                frame = self.socket.recv()
            except (OSError, websocket.WebSocketException) as exc:
                if self.stopping:
                    return
                self.report("chat connect", 0.0, error=DeliveryError(f"socket dropped: {exc}"))
                self.socket = None
                continue
            if isinstance(frame, str):
                self._on_frame(frame, time.perf_counter())

    def _on_frame(self, frame: str, now: float) -> None:
        if MESSAGE_MARK in frame[:64]:
            data = json.loads(frame)
            self._check_order(int(data["seq"]))
            message = data["message"]
            marker = message.get("clientMessageId")
            if marker and message["userId"] != self.me.user_id:
                started = MESSAGES.get(marker)
                if started is not None:
                    self.report("chat send->receive", now - started, length=len(frame))
        elif frame.startswith(ACK_PREFIX):
            started = self.acks.pop(json.loads(frame).get("clientMessageId"), None)
            if started is not None:
                self.report("chat send->ack", now - started)
        elif frame.startswith(('{"type":"ERROR"', '{"type":"RESET"')):
            self.report("chat send->ack", 0.0, error=DeliveryError(frame[:200]))

    def _check_order(self, seq: int) -> None:
        last = self.last_seq
        self.last_seq = seq if last is None else max(last, seq)
        if last is None or seq == last + 1:
            return
        problem = f"seq {seq} after {last}: " + ("a gap" if seq > last else "a repeat")
        self.report("chat send->receive", 0.0, error=DeliveryError(problem))

    def _overdue(self) -> None:
        now = time.perf_counter()
        for marker, started in list(self.acks.items()):
            if now - started > ACK_WITHIN_S:
                del self.acks[marker]
                error = DeliveryError(f"no ack within {ACK_WITHIN_S:.0f} s")
                self.report("chat send->ack", now - started, error=error)

    # --- what the person does -------------------------------------------------------

    @task(6)
    def send_message(self) -> None:
        self._overdue()
        if self.socket is None:
            return
        marker = new_marker()
        started = time.perf_counter()
        MESSAGES.add(marker, started)
        self.acks[marker] = started
        frame = {"type": "MESSAGE", "content": f"Message {marker}", "clientMessageId": marker}
        try:
            self.socket.send(json.dumps(frame))
        except (OSError, websocket.WebSocketException) as exc:
            self.acks.pop(marker, None)
            self.report("chat send->ack", time.perf_counter() - started, error=exc)

    @task(1)
    def my_chats(self) -> None:
        self.client.get(
            f"{URLS['chat']}/api/chats/my", headers=self.session.headers, name="/api/chats/my"
        )

    @task(1)
    def history(self) -> None:
        self.client.get(
            f"{URLS['chat']}/api/chats/messages/{self.chat_id}?limit=30",
            headers=self.session.headers,
            name="/api/chats/messages/{chatId}",
        )
