"""The fake LiveKit server is strict: calls without the right grants are refused, so the
video tests that find no violations could have found some."""

from __future__ import annotations

import pytest
from livekit import api

from tests.plugins.livekit_server import API_KEY, API_SECRET, FakeLiveKit


def token(grants: api.VideoGrants, secret: str = API_SECRET) -> str:
    return api.AccessToken(API_KEY, secret).with_identity("someone").with_grants(grants).to_jwt()


async def test_grants_scoped_to_another_room_are_refused(livekit_server: FakeLiveKit) -> None:
    livekit_server.rooms["mine"] = api.Room(name="mine")
    other_room = token(api.VideoGrants(room_admin=True, room="other"))
    async with api.LiveKitAPI.with_token(other_room, livekit_server.url, failover=False) as lk:
        with pytest.raises(api.TwirpError) as refused:
            await lk.room.list_participants(api.ListParticipantsRequest(room="mine"))
    assert refused.value.code == "permission_denied"
    assert len(livekit_server.violations) == 1


async def test_a_join_token_cannot_manage_rooms(livekit_server: FakeLiveKit) -> None:
    join_only = token(api.VideoGrants(room_join=True, room="mine"))
    async with api.LiveKitAPI.with_token(join_only, livekit_server.url, failover=False) as lk:
        with pytest.raises(api.TwirpError) as refused:
            await lk.room.create_room(api.CreateRoomRequest(name="mine"))
    assert refused.value.code == "permission_denied"
    assert "mine" not in livekit_server.rooms


async def test_a_wrong_secret_is_unauthenticated(livekit_server: FakeLiveKit) -> None:
    async with api.LiveKitAPI(livekit_server.url, API_KEY, "w" * 40, failover=False) as lk:
        with pytest.raises(api.TwirpError) as refused:
            await lk.room.create_room(api.CreateRoomRequest(name="mine"))
    assert refused.value.status == 401
    assert livekit_server.calls == []
