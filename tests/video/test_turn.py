"""TURN REST credentials, checked by a real coturn: turnutils_uclient relays data with
them, and an altered or expired credential is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.coturn import Coturn
from tests.plugins.livekit_server import FakeLiveKit, livekit_settings
from tests.user.support import World
from tests.video.support import assert_error, data_of
from wealist.video.turn import turn_password, turn_username

Client = AsyncTestClient[Litestar]
TTL = 600


@pytest.fixture
async def video_with_turn(
    app_client: Callable[..., Any],
    users: httpx.AsyncClient,
    livekit_server: FakeLiveKit,
    coturn: Coturn,
) -> AsyncIterator[Client]:
    settings = livekit_settings(
        livekit_server,
        user_service_url=str(users.base_url),
        turn_secret=coturn.secret,
        turn_urls=[coturn.turn_url],
        stun_urls=[coturn.stun_url],
        turn_ttl_s=TTL,
    )
    async with app_client("video", **settings) as opened:
        yield opened


async def credentials(client: Client, world: World) -> dict[str, Any]:
    found: dict[str, Any] = data_of(
        await client.get("/api/video/turn-credentials", headers=world.member.headers)
    )
    return found


async def test_credentials_shape(video_with_turn: Client, world: World, coturn: Coturn) -> None:
    before = int(time.time())
    found = await credentials(video_with_turn, world)
    assert set(found) == {"username", "password", "ttl", "expiresAt", "iceServers"}
    expiry, user = found["username"].split(":")
    assert user == world.member.user_id
    assert before + TTL <= int(expiry) <= int(time.time()) + TTL
    assert found["ttl"] == TTL
    expected = hmac.new(coturn.secret.encode(), found["username"].encode(), hashlib.sha1).digest()
    assert base64.b64decode(found["password"]) == expected
    assert found["iceServers"] == [
        {"urls": [coturn.stun_url]},
        {"urls": [coturn.turn_url], "username": found["username"], "credential": found["password"]},
    ]
    anonymous = await video_with_turn.get("/api/video/turn-credentials")
    assert_error(anonymous, 401, "UNAUTHORIZED")


async def test_coturn_relays_with_the_credentials(
    video_with_turn: Client, world: World, coturn: Coturn
) -> None:
    found = await credentials(video_with_turn, world)
    udp = await coturn.relay(found["username"], found["password"])
    assert udp.returncode == 0, udp.output
    tcp = await coturn.relay(found["username"], found["password"], tcp=True)
    assert tcp.returncode == 0, tcp.output


async def test_coturn_refuses_altered_and_expired_credentials(
    video_with_turn: Client, world: World, coturn: Coturn
) -> None:
    found = await credentials(video_with_turn, world)
    password = found["password"]
    flipped = ("A" if password[0] != "A" else "B") + password[1:]
    altered = await coturn.relay(found["username"], flipped)
    assert altered.returncode != 0, altered.output
    expiry, _ = found["username"].split(":")
    someone_else = await coturn.relay(f"{expiry}:{world.owner.user_id}", password)
    assert someone_else.returncode != 0, someone_else.output
    longer = await coturn.relay(f"{int(expiry) + 3600}:{world.member.user_id}", password)
    assert longer.returncode != 0, longer.output
    # Signed correctly, but its expiry has passed.
    stale = turn_username(world.member.user_id, int(time.time()) - 60)
    expired = await coturn.relay(stale, turn_password(coturn.secret, stale))
    assert expired.returncode != 0, expired.output


async def test_without_turn_configured_it_is_503(video: Client, world: World) -> None:
    response = await video.get("/api/video/turn-credentials", headers=world.member.headers)
    assert_error(response, 503, "TURN_NOT_CONFIGURED")
