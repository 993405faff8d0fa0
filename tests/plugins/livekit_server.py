"""A fake LiveKit server over real HTTP: the RoomService's Twirp API, strict about grants.

No LiveKit server runs here (no binary in any reachable registry), so this stands in at
the third-party edge. The video service talks to it with the real ``livekit-api`` client:
protobuf bodies at ``POST /twirp/livekit.RoomService/<Method>``, a bearer JWT signed with
the API secret. Every call's token is verified with the SDK's own verifier and its grants
checked against what LiveKit requires for the method (``roomCreate`` to create or delete
rooms; ``roomAdmin`` scoped to the request's room to list or remove participants); a
call without them is refused with 403 ``permission_denied`` and recorded as a violation.

Tests read back :attr:`FakeLiveKit.calls`, simulate connected participants with
:meth:`FakeLiveKit.connect`, make the server fail with :attr:`FakeLiveKit.down`, and sign
webhooks exactly as the LiveKit server does with :meth:`FakeLiveKit.webhook`.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message
from livekit import api
from livekit.api.access_token import Claims
from livekit.protocol import models
from livekit.protocol import room as room_proto
from livekit.protocol import webhook as webhook_proto

API_KEY = "wealist-test-key"
API_SECRET = "wealist-test-livekit-secret-0123456789abcdef"  # >= 32 bytes, as LiveKit wants
PREFIX = "/twirp/livekit.RoomService/"


@dataclass(frozen=True)
class Call:
    """One RoomService request as the server saw it."""

    method: str
    request: Message
    claims: Claims


@dataclass
class Twirp(Exception):
    status: int
    code: str
    msg: str


@dataclass
class FakeLiveKit:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # calls with missing/wrong grants
    rooms: dict[str, models.Room] = field(default_factory=dict)
    participants: dict[str, dict[str, models.ParticipantInfo]] = field(default_factory=dict)
    down: bool = False  # answer 503 "unavailable" to every call
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what tests read and steer ------------------------------------------------------

    def methods(self, name: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == name]

    def connect(self, room: str, identity: str, name: str = "") -> models.ParticipantInfo:
        """A participant connected to ``room`` (as a browser with a join token would)."""
        info = models.ParticipantInfo(
            sid=f"PA_{uuid.uuid4().hex[:12]}",
            identity=identity,
            name=name or identity[:8],
            joined_at=int(time.time()),
            state=models.ParticipantInfo.State.ACTIVE,
        )
        with self.lock:
            self.participants.setdefault(room, {})[identity] = info
        return info

    def disconnect(self, room: str, identity: str) -> None:
        with self.lock:
            self.participants.get(room, {}).pop(identity, None)

    def connected(self, room: str) -> set[str]:
        with self.lock:
            return set(self.participants.get(room, {}))

    def webhook(
        self,
        event: str,
        *,
        room: str,
        participant: models.ParticipantInfo | None = None,
        created_at: int | None = None,
        event_id: str | None = None,
        secret: str = API_SECRET,
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body and headers signed like the LiveKit server signs them: a JWT
        issued by the API key whose ``sha256`` claim is the body's digest."""
        message = webhook_proto.WebhookEvent(
            event=event,
            room=models.Room(sid=f"RM_{room[:8]}", name=room),
            id=event_id or f"EV_{uuid.uuid4().hex}",
            created_at=created_at if created_at is not None else int(time.time()),
        )
        if participant is not None:
            message.participant.CopyFrom(participant)
        body = MessageToJson(message)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        token = api.AccessToken(API_KEY, secret).with_sha256(digest).to_jwt()
        return body.encode(), {
            "Authorization": token,
            "Content-Type": "application/webhook+json",
        }

    # --- the Twirp API ------------------------------------------------------------------

    def handle(self, method: str, authorization: str, body: bytes) -> bytes:
        if self.down:
            raise Twirp(503, "unavailable", "server is down")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            claims = api.TokenVerifier(API_KEY, API_SECRET).verify(token)
        except Exception as exc:
            raise Twirp(401, "unauthenticated", f"invalid token: {exc}") from None
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            raise Twirp(404, "bad_route", f"no method {method}")
        return handler(claims, body)

    def _record(self, method: str, request: Message, claims: Claims, need: str) -> None:
        video = claims.video or api.VideoGrants()
        room = getattr(request, "room", "")
        ok = {
            "create": bool(video.room_create),
            "admin": bool(video.room_admin) and video.room == room,
        }[need]
        with self.lock:
            self.calls.append(Call(method, request, claims))
            if not ok:
                self.violations.append(f"{method}: grants {video} lack {need} for {room!r}")
        if not ok:
            raise Twirp(403, "permission_denied", f"{method} needs {need}")

    def _CreateRoom(self, claims: Claims, body: bytes) -> bytes:
        request = room_proto.CreateRoomRequest.FromString(body)
        self._record("CreateRoom", request, claims, "create")
        created = models.Room(
            sid=f"RM_{uuid.uuid4().hex[:12]}",
            name=request.name,
            empty_timeout=request.empty_timeout,
            max_participants=request.max_participants,
            creation_time=int(time.time()),
        )
        with self.lock:
            created = self.rooms.setdefault(request.name, created)
        return created.SerializeToString()

    def _DeleteRoom(self, claims: Claims, body: bytes) -> bytes:
        request = room_proto.DeleteRoomRequest.FromString(body)
        self._record("DeleteRoom", request, claims, "create")
        with self.lock:
            if self.rooms.pop(request.room, None) is None:
                raise Twirp(404, "not_found", "room not found")
            self.participants.pop(request.room, None)
        return room_proto.DeleteRoomResponse().SerializeToString()

    def _ListParticipants(self, claims: Claims, body: bytes) -> bytes:
        request = room_proto.ListParticipantsRequest.FromString(body)
        self._record("ListParticipants", request, claims, "admin")
        with self.lock:
            if request.room not in self.rooms:
                raise Twirp(404, "not_found", "room not found")
            people = list(self.participants.get(request.room, {}).values())
        return room_proto.ListParticipantsResponse(participants=people).SerializeToString()

    def _RemoveParticipant(self, claims: Claims, body: bytes) -> bytes:
        request = room_proto.RoomParticipantIdentity.FromString(body)
        self._record("RemoveParticipant", request, claims, "admin")
        with self.lock:
            present = self.participants.get(request.room, {})
            if present.pop(request.identity, None) is None:
                raise Twirp(404, "not_found", "participant not found")
        return room_proto.RemoveParticipantResponse().SerializeToString()


def start(fake: FakeLiveKit) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if not self.path.startswith(PREFIX):
                self._reply(404, b'{"code":"bad_route","msg":"not found"}', "application/json")
                return
            try:
                out = fake.handle(
                    self.path[len(PREFIX) :], self.headers.get("Authorization", ""), body
                )
            except Twirp as exc:
                error = f'{{"code":"{exc.code}","msg":"{exc.msg}"}}'.encode()
                self._reply(exc.status, error, "application/json")
                return
            self._reply(200, out, "application/protobuf")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def serving() -> Iterator[FakeLiveKit]:
    """A fake LiveKit server for the duration of the block."""
    fake = FakeLiveKit()
    server = start(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def livekit_server() -> Iterator[FakeLiveKit]:
    """A fresh fake LiveKit server for one test."""
    with serving() as fake:
        yield fake


def livekit_settings(fake: FakeLiveKit, **overrides: Any) -> dict[str, Any]:
    """Video service settings pointing at ``fake``."""
    return {
        "livekit_url": fake.url,
        "livekit_ws_url": "ws://127.0.0.1:7880",
        "livekit_api_key": API_KEY,
        "livekit_api_secret": API_SECRET,
        "reconcile_interval_s": 0.0,  # tests run the sweep themselves
        **overrides,
    }
