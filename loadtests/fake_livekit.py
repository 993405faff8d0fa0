"""A stand-in LiveKit RoomService for load runs: real HTTP (Twirp, protobuf), its own process.

No LiveKit server can be installed here, so without this the video service answers 503
``LIVEKIT_NOT_CONFIGURED`` and the video user would measure nothing. It verifies every
call's bearer token with the LiveKit SDK (the API secret must match) and answers
CreateRoom / DeleteRoom / ListParticipants / RemoveParticipant from memory. It costs a
few hundred microseconds per call, far less than the real server; join latencies measured
against it are the video service's own share.

Run: ``python -m loadtests.fake_livekit --port 7880`` with ``LIVEKIT_API_KEY`` and
``LIVEKIT_API_SECRET`` in the environment.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from livekit import api
from livekit.protocol import models
from livekit.protocol import room as room_proto
from typing_extensions import override

PREFIX = "/twirp/livekit.RoomService/"


class RoomService:
    def __init__(self, key: str, secret: str) -> None:
        self.verifier = api.TokenVerifier(key, secret)
        self.rooms: dict[str, models.Room] = {}
        self.lock = threading.Lock()

    def call(self, method: str, authorization: str, body: bytes) -> tuple[int, bytes]:
        try:
            self.verifier.verify(authorization.removeprefix("Bearer ").strip())
        except Exception:  # noqa: BLE001  # any verification error is a refusal
            return 401, b'{"code":"unauthenticated","msg":"invalid token"}'
        if method == "CreateRoom":
            request = room_proto.CreateRoomRequest.FromString(body)
            room = models.Room(
                sid=f"RM_{uuid.uuid4().hex[:12]}",
                name=request.name,
                empty_timeout=request.empty_timeout,
                max_participants=request.max_participants,
                creation_time=int(time.time()),
            )
            with self.lock:
                room = self.rooms.setdefault(request.name, room)
            return 200, room.SerializeToString()
        if method == "DeleteRoom":
            name = room_proto.DeleteRoomRequest.FromString(body).room
            with self.lock:
                self.rooms.pop(name, None)
            return 200, room_proto.DeleteRoomResponse().SerializeToString()
        if method == "ListParticipants":
            return 200, room_proto.ListParticipantsResponse().SerializeToString()
        if method == "RemoveParticipant":
            return 200, room_proto.RemoveParticipantResponse().SerializeToString()
        return 404, b'{"code":"bad_route","msg":"no such method"}'


def serve(port: int, service: RoomService) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's aiohttp session expects

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith(PREFIX):
                status, reply = service.call(
                    self.path[len(PREFIX) :], self.headers.get("Authorization", ""), body
                )
            else:
                status, reply = 404, b'{"code":"bad_route","msg":"not found"}'
            kind = "application/protobuf" if status == 200 else "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        @override
        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per call would flood the run's log

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    service = RoomService(os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"])
    server = serve(port, service)
    print(f"fake LiveKit RoomService on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
