"""Hot routes run a fixed number of queries, however much there is."""

from __future__ import annotations

import uuid
from typing import Any

from tests.noti.support import KEY, create, envelope, event_body, noti_ctx, person


async def round_trips(client: Any, method: str, path: str, **kwargs: Any) -> int:
    database = noti_ctx(client).database
    before = database.calls
    response = await client.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return int(database.calls - before)


async def test_the_list_is_two_queries_at_any_size(noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    await create(noti, me.user_id, workspace)
    assert await round_trips(noti, "GET", "/api/notifications", headers=me.at(workspace)) == 2
    items = [event_body(me.user_id, workspace) for _ in range(60)]
    await noti.post("/api/internal/notifications/bulk", json={"notifications": items}, headers=KEY)
    assert (
        await round_trips(noti, "GET", "/api/notifications?limit=50", headers=me.at(workspace)) == 2
    )
    page = (await noti.get("/api/notifications?limit=10", headers=me.at(workspace))).json()
    after = f"/api/notifications?limit=10&cursor={page['nextCursor']}"
    assert await round_trips(noti, "GET", after, headers=me.at(workspace)) == 2


async def test_the_unread_count_is_one_query_on_a_miss_and_none_on_a_hit(noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    await create(noti, me.user_id, workspace)
    path = "/api/notifications/unread-count"
    assert await round_trips(noti, "GET", path, headers=me.at(workspace)) == 1
    assert await round_trips(noti, "GET", path, headers=me.at(workspace)) == 0


async def test_writes_are_one_or_two_queries(noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    plain = event_body(me.user_id, workspace)
    keyed = event_body(me.user_id, workspace, eventId=str(uuid.uuid4()))
    assert (
        await round_trips(noti, "POST", "/api/internal/notifications", json=plain, headers=KEY) == 1
    )
    assert (
        await round_trips(noti, "POST", "/api/internal/notifications", json=keyed, headers=KEY) == 2
    )
    bulk = {
        "notifications": [
            event_body(me.user_id, workspace, eventId=str(uuid.uuid4())) for _ in range(50)
        ]
    }
    assert (
        await round_trips(noti, "POST", "/api/internal/notifications/bulk", json=bulk, headers=KEY)
        == 2
    )
    event = envelope(event_body(me.user_id, workspace))
    assert (
        await round_trips(noti, "POST", "/api/internal/events/noti", json=event, headers=KEY) == 2
    )
    made = await create(noti, me.user_id, workspace)
    assert (
        await round_trips(noti, "PATCH", f"/api/notifications/{made['id']}/read", headers=me.auth)
        == 1
    )
    assert (
        await round_trips(noti, "POST", "/api/notifications/read-all", headers=me.at(workspace))
        == 1
    )
    assert (
        await round_trips(noti, "DELETE", f"/api/notifications/{made['id']}", headers=me.auth) == 1
    )
