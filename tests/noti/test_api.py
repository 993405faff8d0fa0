"""The REST routes of contract 7.1: shapes, storage, validation, ownership, the unread
cache and its invalidation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.noti.support import (
    KEY,
    assert_error,
    create,
    event_body,
    noti_ctx,
    on_app_loop,
    person,
    stored,
)

NOTIFICATION_FIELDS = {
    "id",
    "type",
    "actorId",
    "targetUserId",
    "workspaceId",
    "resourceType",
    "resourceId",
    "resourceName",
    "metadata",
    "isRead",
    "readAt",
    "createdAt",
    "seq",
}


# --- internal create --------------------------------------------------------------------


async def test_internal_create_stores_and_answers_the_notification(noti, db_noti) -> None:
    target, workspace = str(uuid.uuid4()), str(uuid.uuid4())
    body = event_body(target, workspace, occurredAt="2026-01-02T03:04:05Z")
    response = await noti.post("/api/internal/notifications", json=body, headers=KEY)
    assert response.status_code == 201, response.text
    made = response.json()
    assert set(made) == NOTIFICATION_FIELDS
    for key in ("type", "actorId", "targetUserId", "workspaceId", "resourceType", "resourceId"):
        assert made[key] == body[key]
    assert made["resourceName"] == "Write the release notes"
    assert made["metadata"] == body["metadata"]
    assert (made["isRead"], made["readAt"], made["seq"]) == (False, None, 1)
    assert made["createdAt"] == "2026-01-02T03:04:05Z"  # occurredAt overrides createdAt
    rows = await stored(
        db_noti,
        "SELECT type, target_user_id::text, in_app, email_state FROM notifications WHERE id = %s",
        made["id"],
    )
    assert rows == [("BOARD_ASSIGNED", target, True, "none")]


async def test_a_future_occurred_at_is_clamped_to_now(noti) -> None:
    body = event_body(str(uuid.uuid4()), str(uuid.uuid4()), occurredAt="2999-01-01T00:00:00Z")
    made = (await noti.post("/api/internal/notifications", json=body, headers=KEY)).json()
    assert made["createdAt"] < "2999"


@pytest.mark.parametrize("headers", [{}, {"x-internal-api-key": "wrong"}], ids=["missing", "wrong"])
async def test_internal_routes_need_the_internal_key(noti, headers: dict[str, str]) -> None:
    body = event_body(str(uuid.uuid4()), str(uuid.uuid4()))
    for path, payload in (
        ("/api/internal/notifications", body),
        ("/api/internal/notifications/bulk", {"notifications": [body]}),
    ):
        response = await noti.post(path, json=payload, headers=headers)
        assert_error(response, 401, "UNAUTHORIZED")


BAD_EVENTS = {
    "unknown type": {"type": "BOARD_EXPLODED"},
    "lower-case type": {"type": "board_assigned"},
    "unknown resourceType": {"resourceType": "spaceship"},
    "target not a uuid": {"targetUserId": "42"},
    "workspace not a uuid": {"workspaceId": "ws-1"},
    "resource not a uuid": {"resourceId": ""},
    "name too long": {"resourceName": "x" * 256},
    "metadata too big": {"metadata": {"blob": "x" * 9000}},
    "metadata not an object": {"metadata": ["a"]},
    "naive occurredAt": {"occurredAt": "2026-01-02T03:04:05"},
    "unknown field": {"colour": "red"},
}


@pytest.mark.parametrize("change", list(BAD_EVENTS.values()), ids=list(BAD_EVENTS))
async def test_internal_create_refuses_bad_events(noti, db_noti, change: dict[str, Any]) -> None:
    target = str(uuid.uuid4())
    body = {**event_body(target, str(uuid.uuid4())), **change}
    response = await noti.post("/api/internal/notifications", json=body, headers=KEY)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert (
        await stored(db_noti, "SELECT 1 FROM notifications WHERE target_user_id::text = %s", target)
        == []
    )


@pytest.mark.parametrize(
    "missing", ["type", "actorId", "targetUserId", "workspaceId", "resourceType", "resourceId"]
)
async def test_internal_create_needs_every_required_field(noti, missing: str) -> None:
    body = event_body(str(uuid.uuid4()), str(uuid.uuid4()))
    del body[missing]
    assert_error(
        await noti.post("/api/internal/notifications", json=body, headers=KEY),
        400,
        "VALIDATION_ERROR",
    )


async def test_the_frontends_participant_added_type_is_accepted(noti) -> None:
    made = await create(noti, str(uuid.uuid4()), str(uuid.uuid4()), kind="PARTICIPANT_ADDED")
    assert made["type"] == "PARTICIPANT_ADDED"


async def test_a_repeated_event_id_answers_with_the_first_notification(noti, db_noti) -> None:
    target, workspace, event_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    body = event_body(target, workspace, eventId=event_id)
    first = await noti.post("/api/internal/notifications", json=body, headers=KEY)
    again = await noti.post("/api/internal/notifications", json=body, headers=KEY)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    rows = await stored(
        db_noti, "SELECT count(*) FROM notifications WHERE target_user_id::text = %s", target
    )
    assert rows == [(1,)]


async def test_concurrent_deliveries_of_one_event_id_create_one_notification(noti, db_noti) -> None:
    target, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = event_body(target, str(uuid.uuid4()), eventId=event_id)
    replies = await asyncio.gather(
        *[noti.post("/api/internal/notifications", json=body, headers=KEY) for _ in range(8)]
    )
    assert {r.status_code for r in replies} == {201}
    assert len({r.json()["id"] for r in replies}) == 1
    rows = await stored(
        db_noti,
        "SELECT count(*), max(seq) FROM notifications WHERE target_user_id::text = %s",
        target,
    )
    assert rows == [(1, 1)]


# --- bulk -------------------------------------------------------------------------------


async def test_bulk_creates_each_and_skips_event_ids_applied_before(noti) -> None:
    target, workspace = str(uuid.uuid4()), str(uuid.uuid4())
    repeated = str(uuid.uuid4())
    await create(noti, target, workspace, eventId=repeated)
    items = [
        event_body(target, workspace, name="one"),
        event_body(target, workspace, name="two", eventId=repeated),
        event_body(target, workspace, name="three", eventId=str(uuid.uuid4())),
        event_body(str(uuid.uuid4()), workspace, name="four"),
    ]
    response = await noti.post(
        "/api/internal/notifications/bulk", json={"notifications": items}, headers=KEY
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"created", "notifications", "duplicates"}
    assert (body["created"], body["duplicates"]) == (3, 1)
    assert [n["resourceName"] for n in body["notifications"]] == ["one", "three", "four"]
    mine = [n["seq"] for n in body["notifications"] if n["targetUserId"] == target]
    assert mine == [2, 3]  # the stream positions continue the target's sequence
    assert all(set(n) == NOTIFICATION_FIELDS for n in body["notifications"])


@pytest.mark.parametrize(
    "items",
    [
        [],
        "many",
        "one bad",
    ],
    ids=["empty", "over 100", "one invalid item"],
)
async def test_bulk_is_all_or_nothing(noti, db_noti, items: Any) -> None:
    target, workspace = str(uuid.uuid4()), str(uuid.uuid4())
    if items == "many":
        items = [event_body(target, workspace) for _ in range(101)]
    elif items == "one bad":
        items = [event_body(target, workspace), {**event_body(target, workspace), "type": "NOPE"}]
    response = await noti.post(
        "/api/internal/notifications/bulk", json={"notifications": items}, headers=KEY
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    assert (
        await stored(db_noti, "SELECT 1 FROM notifications WHERE target_user_id::text = %s", target)
        == []
    )


# --- list -------------------------------------------------------------------------------


async def test_the_list_needs_the_workspace_header(noti, issuer) -> None:
    me = person(issuer)
    assert_error(await noti.get("/api/notifications", headers=me.auth), 400, "VALIDATION_ERROR")
    bad = {**me.auth, "X-Workspace-Id": "nope"}
    assert_error(await noti.get("/api/notifications", headers=bad), 400, "VALIDATION_ERROR")
    for path in ("/api/notifications/unread-count",):
        assert_error(await noti.get(path, headers=me.auth), 400, "VALIDATION_ERROR")
    assert_error(
        await noti.post("/api/notifications/read-all", headers=me.auth), 400, "VALIDATION_ERROR"
    )


async def test_routes_need_a_token(noti) -> None:
    workspace = {"X-Workspace-Id": str(uuid.uuid4())}
    nid = str(uuid.uuid4())
    for method, path in (
        ("GET", "/api/notifications"),
        ("GET", "/api/notifications/unread-count"),
        ("PATCH", f"/api/notifications/{nid}/read"),
        ("POST", "/api/notifications/read-all"),
        ("DELETE", f"/api/notifications/{nid}"),
        ("GET", "/api/notifications/preferences"),
        ("GET", "/api/notifications/stream"),
    ):
        assert_error(await noti.request(method, path, headers=workspace), 401, "UNAUTHORIZED")


async def test_the_list_pages_newest_first(noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    made = [await create(noti, me.user_id, workspace, name=f"n{i}") for i in range(5)]
    newest_first = [m["id"] for m in reversed(made)]
    pages = []
    for page in (1, 2, 3):
        response = await noti.get(
            f"/api/notifications?page={page}&limit=2", headers=me.at(workspace)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"notifications", "total", "page", "limit", "hasMore", "nextCursor"}
        assert (body["total"], body["page"], body["limit"]) == (5, page, 2)
        assert body["hasMore"] is (page < 3)
        pages.append([n["id"] for n in body["notifications"]])
    assert [n for page_ids in pages for n in page_ids] == newest_first
    # The same list by keyset: nextCursor continues where the page ended.
    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = (await noti.get(f"/api/notifications?{query}", headers=me.at(workspace))).json()
        seen += [n["id"] for n in body["notifications"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == newest_first
    default = (await noti.get("/api/notifications", headers=me.at(workspace))).json()
    assert (default["page"], default["limit"], default["hasMore"]) == (1, 20, False)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "page=0", "limit=x", "cursor=bm9wZQ"])
async def test_the_list_refuses_bad_paging(noti, issuer, query: str) -> None:
    me = person(issuer)
    response = await noti.get(f"/api/notifications?{query}", headers=me.at(str(uuid.uuid4())))
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_the_list_shows_only_the_callers_notifications_of_that_workspace(
    noti, issuer
) -> None:
    me, other, workspace, elsewhere = (
        person(issuer),
        person(issuer),
        str(uuid.uuid4()),
        str(uuid.uuid4()),
    )
    mine = await create(noti, me.user_id, workspace)
    await create(noti, me.user_id, elsewhere)
    theirs = await create(noti, other.user_id, workspace, name="their secret task")
    body = (await noti.get("/api/notifications", headers=me.at(workspace))).json()
    assert [n["id"] for n in body["notifications"]] == [mine["id"]]
    assert body["total"] == 1
    assert "their secret task" not in str(body)
    assert theirs["id"] not in str(body)


async def test_unread_only_lists_unread_ones(noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    read = await create(noti, me.user_id, workspace)
    unread = await create(noti, me.user_id, workspace)
    assert (
        await noti.patch(f"/api/notifications/{read['id']}/read", headers=me.auth)
    ).status_code == 200
    body = (await noti.get("/api/notifications?unreadOnly=true", headers=me.at(workspace))).json()
    assert ([n["id"] for n in body["notifications"]], body["total"]) == ([unread["id"]], 1)


# --- read, read-all, delete -------------------------------------------------------------


async def test_mark_read_answers_the_notification_and_keeps_the_first_read_time(
    noti, issuer, db_noti
) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    made = await create(noti, me.user_id, workspace)
    first = await noti.patch(f"/api/notifications/{made['id']}/read", headers=me.auth)
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == NOTIFICATION_FIELDS
    assert body["isRead"] is True and body["readAt"] is not None
    assert {k: v for k, v in body.items() if k not in {"isRead", "readAt"}} == {
        k: v for k, v in made.items() if k not in {"isRead", "readAt"}
    }
    again = (await noti.patch(f"/api/notifications/{made['id']}/read", headers=me.auth)).json()
    assert again["readAt"] == body["readAt"]
    assert await stored(db_noti, "SELECT is_read FROM notifications WHERE id = %s", made["id"]) == [
        (True,)
    ]


async def test_nobody_else_can_read_or_delete_a_notification(noti, issuer, db_noti) -> None:
    me, intruder, workspace = person(issuer), person(issuer), str(uuid.uuid4())
    made = await create(noti, me.user_id, workspace, name="private thing")
    for response in (
        await noti.patch(f"/api/notifications/{made['id']}/read", headers=intruder.auth),
        await noti.delete(f"/api/notifications/{made['id']}", headers=intruder.auth),
        await noti.patch(f"/api/notifications/{uuid.uuid4()}/read", headers=me.auth),
        await noti.delete(f"/api/notifications/{uuid.uuid4()}", headers=me.auth),
    ):
        assert_error(response, 404, "NOT_FOUND")
        assert "private thing" not in response.text
    assert_error(
        await noti.patch("/api/notifications/not-a-uuid/read", headers=me.auth),
        400,
        "VALIDATION_ERROR",
    )
    rows = await stored(db_noti, "SELECT is_read FROM notifications WHERE id = %s", made["id"])
    assert rows == [(False,)]


async def test_read_all_marks_only_that_workspace(noti, issuer) -> None:
    me, workspace, elsewhere = person(issuer), str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(3):
        await create(noti, me.user_id, workspace)
    await create(noti, me.user_id, elsewhere)
    response = await noti.post("/api/notifications/read-all", headers=me.at(workspace))
    assert response.status_code == 200
    assert response.json() == {"markedAsRead": 3}
    again = await noti.post("/api/notifications/read-all", headers=me.at(workspace))
    assert again.json() == {"markedAsRead": 0}
    count = await noti.get("/api/notifications/unread-count", headers=me.at(elsewhere))
    assert count.json() == {"count": 1, "workspaceId": elsewhere}


async def test_delete_is_204_then_404(noti, issuer, db_noti) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    made = await create(noti, me.user_id, workspace)
    deleted = await noti.delete(f"/api/notifications/{made['id']}", headers=me.auth)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(
        await noti.delete(f"/api/notifications/{made['id']}", headers=me.auth), 404, "NOT_FOUND"
    )
    assert await stored(db_noti, "SELECT 1 FROM notifications WHERE id = %s", made["id"]) == []


# --- the unread count and its cache -----------------------------------------------------


async def test_unread_count_is_cached_and_every_change_invalidates_it(noti, issuer, redis) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    key = f"unread:{me.user_id}:{workspace}"

    async def count() -> int:
        response = await noti.get("/api/notifications/unread-count", headers=me.at(workspace))
        assert response.status_code == 200, response.text
        assert response.json()["workspaceId"] == workspace
        value: int = response.json()["count"]
        return value

    assert await count() == 0
    assert await redis.get(key) == b"0"
    assert 290 < await redis.ttl(key) <= 300
    first = await create(noti, me.user_id, workspace)
    assert await redis.get(key) is None  # the create dropped it
    assert await count() == 1
    second = await create(noti, me.user_id, workspace)
    assert await count() == 2
    await noti.patch(f"/api/notifications/{first['id']}/read", headers=me.auth)
    assert await count() == 1
    await noti.delete(f"/api/notifications/{second['id']}", headers=me.auth)
    assert await count() == 0
    for _ in range(2):
        await create(noti, me.user_id, workspace)
    assert await count() == 2
    await noti.post("/api/notifications/read-all", headers=me.at(workspace))
    assert await count() == 0


async def test_a_count_computed_before_a_change_is_not_cached(noti, issuer, redis) -> None:
    """The race the original lost: a reader computes the old count, a change commits and
    invalidates, then the reader stores its old count for five minutes."""
    from wealist.noti.actions import notifications
    from wealist.noti.actions.common import read_unread_cache, write_unread_cache

    ctx = noti_ctx(noti)
    me, workspace = person(issuer), uuid.uuid4()
    made = await create(noti, me.user_id, str(workspace))
    user = uuid.UUID(me.user_id)
    cached, generation = await on_app_loop(noti, read_unread_cache, ctx, user, workspace)
    assert cached is None
    stale = 1  # what the reader's query saw
    # The change commits and invalidates while the reader is between its query and its write.
    await on_app_loop(noti, notifications.do_mark_read, ctx, user, uuid.UUID(made["id"]))
    await on_app_loop(noti, write_unread_cache, ctx, user, workspace, stale, generation)
    assert await redis.get(f"unread:{user}:{workspace}") is None
    response = await noti.get("/api/notifications/unread-count", headers=me.at(str(workspace)))
    assert response.json()["count"] == 0
