"""LiveKit webhooks: signed with the API secret (a tampered body is refused), applied
once per event id, and keeping participants and history right when clients crash."""

from __future__ import annotations

import time
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.livekit_server import FakeLiveKit
from tests.user.support import World
from tests.video.support import Db, assert_error, create_room, data_of, joined, room_row, seats

Client = AsyncTestClient[Litestar]
HOOK = "/api/video/webhooks/livekit"


async def send(client: Client, signed: tuple[bytes, dict[str, str]]) -> Any:
    body, headers = signed
    return await client.post(HOOK, content=body, headers=headers)


async def applied(client: Client, signed: tuple[bytes, dict[str, str]]) -> bool:
    ack = data_of(await send(client, signed))
    assert set(ack) == {"event", "applied"}
    result: bool = ack["applied"]
    return result


async def test_a_crashed_client_leaves_through_the_webhook(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    await joined(video, world.admin, room["id"])
    conn = livekit_server.connect(room["id"], world.member.user_id)
    assert await applied(
        video, livekit_server.webhook("participant_joined", room=room["id"], participant=conn)
    )
    # The browser dies: LiveKit notices and reports the participant gone.
    livekit_server.disconnect(room["id"], world.member.user_id)
    assert await applied(
        video, livekit_server.webhook("participant_left", room=room["id"], participant=conn)
    )
    assert await seats(db_video, room["id"]) == {
        world.member.user_id: (False, False),
        world.admin.user_id: (True, False),
    }
    found = data_of(await video.get(f"/api/video/rooms/{room['id']}", headers=world.owner.headers))
    assert [p["userId"] for p in found["participants"]] == [world.admin.user_id]


async def test_room_finished_ends_the_call_and_writes_history(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    assert await applied(video, livekit_server.webhook("room_finished", room=room["id"]))
    assert await room_row(db_video, room["id"]) == (False, True)
    assert await seats(db_video, room["id"]) == {world.member.user_id: (False, False)}
    history = await video.get(
        f"/api/video/history/workspace/{world.a}", headers=world.member.headers
    )
    [call] = history.json()["data"]
    assert call["roomId"] == room["id"] and call["totalParticipants"] == 1


async def test_unsigned_or_tampered_webhooks_are_refused(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    body, headers = livekit_server.webhook("room_finished", room=room["id"])
    other = str(uuid.uuid4())
    tampered = body.replace(room["id"].encode(), other.encode())
    assert tampered != body
    assert_error(await send(video, (tampered, headers)), 401, "UNAUTHORIZED")
    forged = livekit_server.webhook("room_finished", room=room["id"], secret="x" * 40)
    assert_error(await send(video, forged), 401, "UNAUTHORIZED")
    assert_error(
        await send(video, (body, {"Content-Type": "application/webhook+json"})), 401, "UNAUTHORIZED"
    )
    bearer = {**headers, "Authorization": "Bearer garbage"}
    assert_error(await send(video, (body, bearer)), 401, "UNAUTHORIZED")
    assert await room_row(db_video, room["id"]) == (True, False)
    # The genuine one still works (nothing was consumed by the refusals).
    assert await applied(video, (body, headers))
    assert await room_row(db_video, room["id"]) == (False, True)


async def test_a_signed_body_that_is_not_an_event_is_a_bad_request(
    video: Client, livekit_server: FakeLiveKit
) -> None:
    import base64
    import hashlib

    from livekit import api

    from tests.plugins.livekit_server import API_KEY, API_SECRET

    body = b'{"event": 42, "room": "nope"'
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = api.AccessToken(API_KEY, API_SECRET).with_sha256(digest).to_jwt()
    response = await video.post(HOOK, content=body, headers={"Authorization": token})
    assert_error(response, 400, "BAD_REQUEST")


async def test_redeliveries_apply_once(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    conn = livekit_server.connect(room["id"], world.member.user_id)
    left = livekit_server.webhook("participant_left", room=room["id"], participant=conn)
    assert await applied(video, left)
    # They come back (a new session), then LiveKit redelivers the old "left".
    await joined(video, world.member, room["id"])
    assert not await applied(video, left)
    assert await seats(db_video, room["id"]) == {world.member.user_id: (True, False)}


async def test_a_late_left_from_an_earlier_connection_changes_nothing(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    old = livekit_server.connect(room["id"], world.member.user_id)
    assert await applied(
        video, livekit_server.webhook("participant_joined", room=room["id"], participant=old)
    )
    new = livekit_server.connect(room["id"], world.member.user_id)  # reconnected elsewhere
    assert await applied(
        video, livekit_server.webhook("participant_joined", room=room["id"], participant=new)
    )
    late = livekit_server.webhook("participant_left", room=room["id"], participant=old)
    assert not await applied(video, late)
    assert await seats(db_video, room["id"]) == {world.member.user_id: (True, False)}
    # A "left" older than the current session (no connection reported yet) is stale too.
    await joined(video, world.admin, room["id"])  # keeps the call going
    left = await video.post(f"/api/video/rooms/{room['id']}/leave", headers=world.member.headers)
    assert left.status_code == 200, left.text
    await joined(video, world.member, room["id"])
    stale = livekit_server.webhook(
        "participant_left", room=room["id"], participant=new, created_at=int(time.time()) - 60
    )
    assert not await applied(video, stale)
    assert (await seats(db_video, room["id"]))[world.member.user_id] == (True, False)


async def test_connections_the_call_does_not_seat_are_closed(
    video: Client, world: World, livekit_server: FakeLiveKit, db_video: Db
) -> None:
    room = await create_room(video, world.owner, world.a)
    await joined(video, world.member, room["id"])
    await joined(video, world.admin, room["id"])
    kick = f"/api/video/rooms/{room['id']}/participants/{world.member.user_id}"
    assert (await video.delete(kick, headers=world.owner.headers)).status_code == 200
    # The removed member reconnects with the token they still hold...
    again = livekit_server.connect(room["id"], world.member.user_id)
    assert await applied(
        video, livekit_server.webhook("participant_joined", room=room["id"], participant=again)
    )
    # ...and is disconnected again; so is an identity the room never saw.
    stranger = livekit_server.connect(room["id"], "not-a-wealist-user")
    assert await applied(
        video, livekit_server.webhook("participant_joined", room=room["id"], participant=stranger)
    )
    assert livekit_server.connected(room["id"]) == set()
    assert [c.request.identity for c in livekit_server.methods("RemoveParticipant")] == [
        world.member.user_id,
        world.member.user_id,
        "not-a-wealist-user",
    ]
    assert (await seats(db_video, room["id"]))[world.member.user_id] == (False, True)
    assert livekit_server.violations == []


async def test_events_about_other_rooms_are_acknowledged_and_ignored(
    video: Client, livekit_server: FakeLiveKit
) -> None:
    for room in ("not-a-uuid", str(uuid.uuid4())):
        assert not await applied(video, livekit_server.webhook("room_finished", room=room))
    assert not await applied(
        video, livekit_server.webhook("track_published", room=str(uuid.uuid4()))
    )
