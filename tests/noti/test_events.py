"""Outbox events at ``POST /api/internal/events/noti``: applied once per id, unknown types
acknowledged, unappliable bodies refused with nothing changed."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.noti.support import KEY, assert_error, create, envelope, event_body, person, stored

EVENTS = "/api/internal/events/noti"


async def test_a_notification_event_is_applied_once(noti, db_noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    body = envelope(event_body(me.user_id, workspace))
    first = await noti.post(EVENTS, json=body, headers=KEY)
    again = await noti.post(EVENTS, json=body, headers=KEY)
    assert (first.status_code, first.json()) == (200, {"applied": True})
    assert (again.status_code, again.json()) == (200, {"applied": False})
    rows = await stored(
        db_noti,
        "SELECT event_id::text, created_at = %s::timestamptz FROM notifications"
        " WHERE target_user_id::text = %s",
        "2026-01-05T10:00:00+00:00",
        me.user_id,
    )
    assert rows == [(body["id"], True)]  # the envelope's time, not the time we caught up
    listed = (await noti.get("/api/notifications", headers=me.at(workspace))).json()
    assert listed["total"] == 1


async def test_concurrent_redeliveries_apply_once(noti, db_noti) -> None:
    target = str(uuid.uuid4())
    body = envelope(event_body(target, str(uuid.uuid4())))
    replies = await asyncio.gather(*[noti.post(EVENTS, json=body, headers=KEY) for _ in range(8)])
    assert sorted(r.json()["applied"] for r in replies) == [False] * 7 + [True]
    assert await stored(
        db_noti, "SELECT count(*) FROM notifications WHERE target_user_id::text = %s", target
    ) == [(1,)]


async def test_an_event_and_an_internal_create_share_the_idempotency_key(noti, db_noti) -> None:
    target, workspace, event_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await noti.post(
        EVENTS, json=envelope(event_body(target, workspace), event_id=event_id), headers=KEY
    )
    retry = await noti.post(
        "/api/internal/notifications",
        json=event_body(target, workspace, eventId=event_id),
        headers=KEY,
    )
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert await stored(
        db_noti, "SELECT count(*) FROM notifications WHERE target_user_id::text = %s", target
    ) == [(1,)]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"type": "notification.requested"}',
        b'{"id": "nope", "type": "notification.requested", "occurred_at": "x", "payload": {}}',
        "bad type",
        "missing target",
    ],
    ids=["bad json", "no id", "id not a uuid", "invalid enum", "missing field"],
)
async def test_unappliable_events_are_refused_and_change_nothing(noti, db_noti, body) -> None:
    event_id = str(uuid.uuid4())
    target = str(uuid.uuid4())
    if body == "bad type":
        payload = {**event_body(target, str(uuid.uuid4())), "type": "BOARD_MELTED"}
        body = envelope(payload, event_id=event_id)
    elif body == "missing target":
        payload = event_body(target, str(uuid.uuid4()))
        del payload["targetUserId"]
        body = envelope(payload, event_id=event_id)
    if isinstance(body, bytes):
        response = await noti.post(
            EVENTS, content=body, headers={**KEY, "content-type": "application/json"}
        )
    else:
        response = await noti.post(EVENTS, json=body, headers=KEY)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert await stored(db_noti, "SELECT 1 FROM inbox WHERE event_id::text = %s", event_id) == []
    assert (
        await stored(db_noti, "SELECT 1 FROM notifications WHERE target_user_id::text = %s", target)
        == []
    )


async def test_events_need_the_internal_key(noti) -> None:
    body = envelope(event_body(str(uuid.uuid4()), str(uuid.uuid4())))
    assert_error(await noti.post(EVENTS, json=body), 401, "UNAUTHORIZED")


async def test_a_deleted_workspace_takes_its_notifications(noti, issuer, db_noti, redis) -> None:
    me, workspace, other = person(issuer), str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(2):
        await create(noti, me.user_id, workspace)
    kept = await create(noti, me.user_id, other)
    assert (await noti.get("/api/notifications/unread-count", headers=me.at(workspace))).json()[
        "count"
    ] == 2
    gone = {"workspaceId": workspace, "deletedBy": str(uuid.uuid4()), "memberIds": [me.user_id]}
    response = await noti.post(EVENTS, json=envelope(gone, kind="workspace.deleted"), headers=KEY)
    assert response.json() == {"applied": True}
    rows = await stored(
        db_noti, "SELECT id::text FROM notifications WHERE target_user_id::text = %s", me.user_id
    )
    assert rows == [(kept["id"],)]
    assert await redis.get(f"unread:{me.user_id}:{workspace}") is None
    count = await noti.get("/api/notifications/unread-count", headers=me.at(workspace))
    assert count.json()["count"] == 0


async def test_a_removed_member_keeps_only_the_removal_notice(noti, issuer, db_noti) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    await create(noti, me.user_id, workspace, kind="BOARD_ASSIGNED")
    notice = await create(
        noti, me.user_id, workspace, kind="WORKSPACE_REMOVED", resource_type="workspace"
    )
    removed = {"workspaceId": workspace, "userId": me.user_id, "removedBy": str(uuid.uuid4())}
    body = envelope(removed, kind="workspace.member_removed")
    body["occurred_at"] = "2999-01-01T00:00:00+00:00"
    response = await noti.post(EVENTS, json=body, headers=KEY)
    assert response.json() == {"applied": True}
    listed = (await noti.get("/api/notifications", headers=me.at(workspace))).json()
    assert [n["id"] for n in listed["notifications"]] == [notice["id"]]
