"""T33: WebSocket limits of the board and presence sockets, against a real process (the
chat socket's are tests/chat/test_sockets.py::test_limits_close_only_the_violating_socket).

Per socket: a frame over the limit closes it with 1009; malformed JSON or an unknown
frame gets an error frame (or, on the board, is ignored) and the socket lives; more
sockets than a user may hold are refused with 4409; too many frames a second - pings and
malformed frames count too - get RATE_LIMITED, then 4429. Meanwhile another user's socket
on the same process is untouched and still receives what it follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.chat.support import Socket, open_socket
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.user.support import Actor, World, build_world

pytestmark = pytest.mark.slow

BOARD_FRAME_MAX = 4096  # board.ws.MAX_CLIENT_FRAME: its clients only send pings
CHAT_FRAME_MAX = 65_536  # WEALIST_CHAT_WS_MAX_FRAME_BYTES's default
SOCKETS_PER_USER = 20  # WEALIST_CHAT_WS_SOCKETS_PER_USER's default, and the board's


@pytest.fixture(scope="module")
async def world(every_service: ServiceProcess, issuer: TokenIssuer) -> World:
    async with httpx.AsyncClient(base_url=every_service.url, timeout=30) as users:
        return await build_world(users, issuer)


async def closed_with(sock: Socket, timeout: float = 10.0) -> tuple[int, list[str]]:
    """Read until the server closes: its close code and the error codes said before."""
    errors: list[str] = []
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                frame = await sock.recv(timeout)
                if frame.get("type") == "ERROR":
                    errors.append(frame["code"])
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, errors


async def flood(sock: Socket, frame: str, most: int = 100) -> tuple[int, list[str]]:
    """Send ``frame`` over and over, each after the answer to the one before (a pong or an
    error), until the server closes: its close code and the errors it said first. In
    lockstep, no frame is left unread when the server closes (that would reset the
    connection and lose the close frame)."""
    errors: list[str] = []
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(most):
            await sock.send(frame)
            while True:
                answer = await sock.recv()
                if answer.get("type") == "ERROR":
                    errors.append(answer["code"])
                    break
                if answer.get("type") == "pong":
                    break
        raise AssertionError(f"still open after {most} frames: {errors}")
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, errors


async def test_board_socket_limits_close_only_the_violator(
    every_service: ServiceProcess, world: World
) -> None:
    async with httpx.AsyncClient(base_url=every_service.url, timeout=30) as http:
        made = await http.post(
            "/api/projects",
            json={"workspaceId": world.a, "name": "Limits"},
            headers=world.owner.headers,
        )
        assert made.status_code == 201, made.text
        project = made.json()["data"]["projectId"]
        path = f"/ws/project/{project}"
        base = every_service.ws_url
        async with open_socket(base, path, world.member) as control:
            assert (await control.recv())["type"] == "connected"
            # a frame over the limit: 1009
            async with open_socket(base, path, world.owner) as big:
                assert (await big.recv())["type"] == "connected"
                await big.send(json.dumps({"type": "ping", "pad": "x" * BOARD_FRAME_MAX}))
                assert (await closed_with(big))[0] == 1009
            async with open_socket(base, path, world.owner) as odd:
                assert (await odd.recv())["type"] == "connected"
                # malformed JSON: an error frame, the socket lives
                await odd.send("{not json")
                assert (await odd.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
                # an unknown frame: ignored (contract 5.7), the socket lives
                await odd.send(json.dumps({"type": "DANCE"}))
                await odd.ready()
            # nested a thousand deep (2 KB, under the frame limit): an error, the socket lives
            async with open_socket(base, path, world.owner) as deep:
                assert (await deep.recv())["type"] == "connected"
                await deep.send('{"type": "ping", "x": ' + "[" * 1000 + "]" * 1000 + "}")
                assert (await deep.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
                await deep.ready()
            # too many frames a second (2 here), pings too: RATE_LIMITED, then 4429
            async with open_socket(base, path, world.owner) as noisy:
                assert (await noisy.recv())["type"] == "connected"
                code, errors = await flood(noisy, json.dumps({"type": "ping"}))
                assert code == 4429
                assert errors and set(errors) == {"RATE_LIMITED"}
            # more sockets than one user may hold: the newest is refused with 4409
            async with contextlib.AsyncExitStack() as stack:
                held = [
                    await stack.enter_async_context(open_socket(base, path, world.admin))
                    for _ in range(SOCKETS_PER_USER)
                ]
                for sock in held:
                    assert (await sock.recv())["type"] == "connected"
                async with open_socket(base, path, world.admin) as extra:
                    code, errors = await closed_with(extra)
                    assert (code, errors) == (4409, ["TOO_MANY_SOCKETS"])
                await held[0].ready()  # those it holds live on
            # closed ones no longer count
            async with open_socket(base, path, world.admin) as again:
                assert (await again.recv())["type"] == "connected"
            # the control socket still follows the project
            renamed = await http.put(
                f"/api/projects/{project}", json={"name": "Limits 2"}, headers=world.owner.headers
            )
            assert renamed.status_code == 200, renamed.text
            event = await control.recv_type("PROJECT_UPDATED")
            assert event["projectId"] == project
            await control.ready()


async def _presence(base: str, who: Actor, world: World) -> AsyncIterator[Socket]:
    async with open_socket(base, "/api/chats/ws/presence", who, f"&workspaceId={world.a}") as sock:
        yield sock


async def test_presence_socket_limits_close_only_the_violator(
    every_service: ServiceProcess, world: World
) -> None:
    base = every_service.ws_url
    presence = contextlib.asynccontextmanager(_presence)
    async with presence(base, world.member, world) as control:
        await control.ready()
        # a frame over the limit: 1009
        async with presence(base, world.owner, world) as big:
            await big.ready()
            await big.send(json.dumps({"type": "ping", "pad": "x" * CHAT_FRAME_MAX}))
            assert (await closed_with(big))[0] == 1009
        # malformed JSON and unknown frames: an error frame, the socket lives
        async with presence(base, world.owner, world) as odd:
            await odd.ready()
            await odd.send("{not json")
            assert (await odd.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
            await odd.send(json.dumps({"type": "DANCE"}))
            assert (await odd.recv_type("ERROR"))["code"] == "INVALID_MESSAGE"
            await odd.ready()
        # too many frames a second (2 here): RATE_LIMITED, then 4429
        async with presence(base, world.owner, world) as noisy:
            await noisy.ready()
            code, errors = await flood(noisy, json.dumps({"type": "heartbeat"}))
            assert code == 4429
            assert errors and set(errors) == {"RATE_LIMITED"}
        # malformed frames spend the same budget
        async with presence(base, world.owner, world) as garbled:
            await garbled.ready()
            code, errors = await flood(garbled, "{not json")
            assert code == 4429
            assert set(errors) == {"INVALID_MESSAGE", "RATE_LIMITED"}
        # more sockets than one user may hold: the newest is refused with 4409
        async with contextlib.AsyncExitStack() as stack:
            held = [
                await stack.enter_async_context(presence(base, world.admin, world))
                for _ in range(SOCKETS_PER_USER)
            ]
            for sock in held:
                await sock.ready()
            async with presence(base, world.admin, world) as extra:
                code, errors = await closed_with(extra)
                assert (code, errors) == (4409, ["TOO_MANY_SOCKETS"])
            await held[0].ready()  # those it holds live on
        # the control socket saw the others come online throughout, and still answers
        seen = set()
        with contextlib.suppress(TimeoutError):
            while True:
                frame = await control.recv(timeout=1.0)
                if frame.get("type") == "USER_STATUS":
                    seen.add(frame["userId"])
        assert {world.owner.user_id, world.admin.user_id} <= seen
        await control.ready()
