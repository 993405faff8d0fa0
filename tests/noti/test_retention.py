"""Retention: read (or never shown) notifications older than the configured age go, unread
ones and those an email still waits for stay; several replicas purge safely; resuming
from before a purge resets (see test_stream); old consumed event ids are forgotten."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from tests.noti.support import create, noti_ctx, on_app_loop, person, stored
from wealist.noti.actions.retention import do_purge_all

IDLE = {"digest_interval_s": 3600.0, "retention_interval_s": 3600.0}


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def purge(client) -> int:
    return int(await on_app_loop(client, do_purge_all, noti_ctx(client)))


async def test_old_read_notifications_go_and_the_rest_stay(app_client, issuer, db_noti) -> None:
    async with app_client("noti", **IDLE) as noti:
        me, workspace = person(issuer), str(uuid.uuid4())
        old_read = await create(
            noti, me.user_id, workspace, name="old read", occurredAt=days_ago(40)
        )
        old_unread = await create(
            noti, me.user_id, workspace, name="old unread", occurredAt=days_ago(40)
        )
        new_read = await create(
            noti, me.user_id, workspace, name="new read", occurredAt=days_ago(2)
        )
        for made in (old_read, new_read):
            await noti.patch(f"/api/notifications/{made['id']}/read", headers=me.auth)
        await purge(noti)
    names = await stored(
        db_noti,
        "SELECT resource_name FROM notifications WHERE target_user_id::text = %s ORDER BY seq",
        me.user_id,
    )
    assert names == [("old unread",), ("new read",)]
    marks = await stored(
        db_noti,
        "SELECT last_seq, purged_seq FROM notification_streams WHERE user_id::text = %s",
        me.user_id,
    )
    assert marks == [(3, old_read["seq"])]
    assert old_unread["seq"] == 2


async def test_hidden_ones_go_unless_an_email_waits_for_them(app_client, issuer, db_noti) -> None:
    async with app_client("noti", **IDLE) as noti:
        user_id = str(uuid.uuid4())
        auth = {"Authorization": f"Bearer {issuer.token(user_id, email='c@example.com')}"}
        prefs = {
            "preferences": [
                {"type": "BOARD_UPDATED", "inApp": False},
                {"type": "BOARD_ASSIGNED", "inApp": False, "email": True},
            ]
        }
        assert (
            await noti.put("/api/notifications/preferences", json=prefs, headers=auth)
        ).status_code == 200
        workspace = str(uuid.uuid4())
        await create(
            noti, user_id, workspace, kind="BOARD_UPDATED", name="hidden", occurredAt=days_ago(40)
        )
        await create(
            noti, user_id, workspace, kind="BOARD_ASSIGNED", name="emailed", occurredAt=days_ago(40)
        )
        await purge(noti)
    names = await stored(
        db_noti, "SELECT resource_name FROM notifications WHERE target_user_id::text = %s", user_id
    )
    assert names == [("emailed",)]


async def test_two_replicas_purge_concurrently_without_errors(app_client, issuer, db_noti) -> None:
    async with (
        app_client("noti", retention_batch=7, **IDLE) as one,
        app_client("noti", retention_batch=7, **IDLE) as two,
    ):
        me, workspace = person(issuer), str(uuid.uuid4())
        made = [
            await create(one, me.user_id, workspace, occurredAt=days_ago(31)) for _ in range(30)
        ]
        await one.post("/api/notifications/read-all", headers=me.at(workspace))
        for _ in range(3):
            await asyncio.gather(purge(one), purge(two))
    left = await stored(
        db_noti, "SELECT count(*) FROM notifications WHERE target_user_id::text = %s", me.user_id
    )
    assert left == [(0,)]
    marks = await stored(
        db_noti, "SELECT purged_seq FROM notification_streams WHERE user_id::text = %s", me.user_id
    )
    assert marks == [(made[-1]["seq"],)]


async def test_old_consumed_event_ids_are_forgotten(app_client, db_noti) -> None:
    old, recent = uuid.uuid4(), uuid.uuid4()
    await db_noti.execute(
        "INSERT INTO inbox (event_id, received_at)"
        " VALUES (%s, now() - interval '31 days'), (%s, now())",
        (old, recent),
    )
    async with app_client("noti", **IDLE) as noti:
        await purge(noti)
    kept = await stored(
        db_noti, "SELECT event_id FROM inbox WHERE event_id IN (%s, %s)", old, recent
    )
    assert kept == [(recent,)]
