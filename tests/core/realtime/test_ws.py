"""The WebSocket session loop (``run_session``) in a real Granian process."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.core.realtime.clients import room, stats
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import ServiceProcess, TokenIssuer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["/probe/ws", "/probe/rt/ws"])
@pytest.mark.parametrize("token", ["missing", "garbage", "expired", "unknown-key", "refresh"])
async def test_a_bad_token_is_refused_at_the_handshake(
    board: ServiceProcess, issuer: TokenIssuer, path: str, token: str
) -> None:
    tokens = {
        "missing": "",
        "garbage": "not-a-jwt",
        "expired": issuer.token(exp=1_000_000_000, iat=999_999_000),
        "unknown-key": issuer.token(key=issuer.new_key()),
        "refresh": issuer.token(type="refresh"),
    }
    query = f"?token={tokens[token]}" if tokens[token] else ""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{board.ws_url}{path}/{room()}{query}", open_timeout=10):
            pass  # pragma: no cover - the handshake must not complete
    assert refused.value.response.status_code == 403


async def test_a_valid_token_connects_and_ping_gets_pong(
    board: ServiceProcess, ws_client: Callable[..., Any]
) -> None:
    async with ws_client(board, f"/probe/ws/{room()}") as client:
        for _ in range(3):
            await client.send({"type": "ping"})
            assert await client.recv() == {"type": "pong"}


@pytest.mark.parametrize(
    "bad",
    ["not json", "{}", '{"type":"unknown"}', '{"type":"say"}', '{"type":"say","text":5}', "[1,2]"],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(
    board: ServiceProcess, ws_client: Callable[..., Any], bad: str
) -> None:
    async with ws_client(board, f"/probe/ws/{room()}") as client:
        await client.send(bad)
        error = await client.recv()
        assert error["type"] == "ERROR"
        assert error["code"] == "INVALID_MESSAGE"
        assert isinstance(error["message"], str)
        await client.send({"type": "ping"})
        assert await client.recv() == {"type": "pong"}


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('{"type":"say","text":"' + "x" * 2000 + '"}', id="ascii"),
        # 600 characters but 1,200 UTF-8 bytes: the limit is in bytes.
        pytest.param('{"type":"say","text":"' + "é" * 600 + '"}', id="multibyte"),
        pytest.param(b"\x00" * 1025, id="binary"),
    ],
)
async def test_an_oversize_frame_closes_with_1009(
    board: ServiceProcess, ws_client: Callable[..., Any], frame: str | bytes
) -> None:
    async with ws_client(board, f"/probe/ws/{room()}") as client:
        await client.ready()
        await client.ws.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_a_frame_at_the_limit_is_accepted(
    board: ServiceProcess, ws_client: Callable[..., Any]
) -> None:
    name = room()
    envelope = '{"type":"say","text":""}'
    frame = envelope.replace('""', '"' + "y" * (1024 - len(envelope)) + '"')
    assert len(frame.encode()) == 1024
    async with ws_client(board, f"/probe/ws/{name}") as client:
        await client.ready()
        await client.send(frame)
        said = await client.recv()
        assert said["type"] == "said"
        assert len(said["text"]) == 1024 - len(envelope)


async def test_heartbeats_arrive(board: ServiceProcess, ws_client: Callable[..., Any]) -> None:
    async with ws_client(board, f"/probe/ws/{room()}") as client:
        heartbeats = 0
        while heartbeats < 3:  # every 0.5 s in this process
            frame = await client.recv(heartbeats=True)
            assert frame == {"type": "heartbeat"}
            heartbeats += 1


async def test_a_say_reaches_every_client_in_the_room_exactly_once(
    board: ServiceProcess, ws_client: Callable[..., Any], issuer: TokenIssuer
) -> None:
    name = room()
    alice_id = str(uuid.uuid4())
    async with (
        ws_client(board, f"/probe/ws/{name}", token=issuer.token(alice_id)) as alice,
        ws_client(board, f"/probe/ws/{name}") as bob,
        ws_client(board, f"/probe/ws/{room()}") as elsewhere,
    ):
        for client in (alice, bob, elsewhere):
            await client.ready()
        await alice.send({"type": "say", "text": "hello"})
        await alice.send({"type": "say", "text": "marker"})
        for client in (alice, bob):
            # The marker right after "hello": "hello" came once, not twice.
            assert await client.recv() == {"type": "said", "by": alice_id, "text": "hello"}
            assert await client.recv() == {"type": "said", "by": alice_id, "text": "marker"}
        # Nothing leaked into another room: its next frame is its own pong.
        await elsewhere.send({"type": "ping"})
        assert await elsewhere.recv() == {"type": "pong"}


async def test_a_socket_accepted_by_run_session_is_already_subscribed(
    board: ServiceProcess, ws_client: Callable[..., Any]
) -> None:
    """run_session accepts after joining: publish right after the handshake, no ping first."""
    async with httpx.AsyncClient(base_url=board.url) as http:
        for i in range(10):
            name = room()
            async with ws_client(board, f"/probe/rt/ws/{name}") as client:
                response = await http.post(f"/probe/publish/{name}", json={"n": i})
                assert response.status_code == 201
                assert await client.recv() == {"n": i}


async def test_the_server_ends_sessions_with_their_close_codes(
    board: ServiceProcess, ws_client: Callable[..., Any]
) -> None:
    async with ws_client(board, f"/probe/rt/ws/{room()}") as client:
        await client.ready()
        await client.ws.send("z" * 5000)
        with pytest.raises(ConnectionClosed):
            await client.recv()
    async with ws_client(board, f"/probe/rt/ws/{room()}") as client:
        await client.ready()

    async def last_two() -> list[int]:
        return list((await stats(board))["ended"][-2:])

    await eventually(last_two, equals=[1009, 1000])
    assert (await stats(board))["sockets"] == 0


async def test_frames_from_on_joined_go_first_and_are_not_limited_by_the_queue(
    board: ServiceProcess, ws_client: Callable[..., Any]
) -> None:
    """A replay longer than the queue (256 here) is sent, then live events follow it."""
    name = room()
    async with (
        ws_client(board, f"/probe/rt/replay/{name}", query="&n=1000") as client,
        httpx.AsyncClient(base_url=board.url) as http,
    ):
        response = await http.post(f"/probe/publish/{name}", json={"live": 1})
        assert response.status_code == 201
        for i in range(1000):
            assert await client.recv() == {"replayed": i}
        assert await client.recv() == {"live": 1}
