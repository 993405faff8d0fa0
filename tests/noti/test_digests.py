"""Email digests through a real SMTP server process (STARTTLS and AUTH required): one email
per user for what stayed unread, only for types the user turned email on, after the
window, once even with two replicas; failures leave the digest pending for a retry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.noti.support import KEY, Person, create, event_body, noti_ctx, on_app_loop, stored
from tests.plugins.smtp_server import SmtpServer
from wealist.noti.actions.digests import do_send_digests

IDLE = {"digest_interval_s": 3600.0, "retention_interval_s": 3600.0}


async def opt_in(client: Any, who: Person, *types: str, in_app: bool = True) -> None:
    changes = [{"type": t, "email": True, "inApp": in_app} for t in types]
    response = await client.put(
        "/api/notifications/preferences", json={"preferences": changes}, headers=who.auth
    )
    assert response.status_code == 200, response.text


async def send_round(client: Any) -> int:
    ctx = noti_ctx(client)
    return int(await on_app_loop(client, do_send_digests, ctx, ctx.state["mailer"]))


def emailed(issuer: Any) -> Person:
    user_id = str(uuid.uuid4())
    return Person(user_id, issuer.token(user_id, email=address_of(user_id)))


def address_of(user_id: str) -> str:
    return f"{user_id[:8]}@example.com"


# The worker's database is shared by its tests: a round may also mail other tests' users,
# so each test reads only its own users' mail.


async def test_one_email_lists_only_unread_opted_in_notifications(
    app_client, smtp_server: SmtpServer, issuer, db_noti
) -> None:
    async with app_client("noti", digest_window_s=0, **IDLE, **smtp_server.settings()) as noti:
        me, workspace = emailed(issuer), str(uuid.uuid4())
        await opt_in(noti, me, "BOARD_ASSIGNED")
        kept = [await create(noti, me.user_id, workspace, name=f"Task {n}") for n in range(3)]
        await create(noti, me.user_id, workspace, kind="COMMENT_ADDED", name="Not emailed")
        await noti.patch(f"/api/notifications/{kept[0]['id']}/read", headers=me.auth)
        await send_round(noti)
        await send_round(noti)  # nothing pending any more: no second email
    [message] = smtp_server.to(address_of(me.user_id))
    [envelope] = [e for e, _ in smtp_server.messages() if address_of(me.user_id) in e["rcpt_tos"]]
    assert envelope["rcpt_tos"] == [address_of(me.user_id)]
    assert envelope["mail_from"] == "no-reply@wealist.test"
    assert message["Subject"] == "weAlist: 2 unread notifications"
    text = message.get_content()
    assert "You were assigned a task: Task 1" in text and "Task 2" in text
    assert "Task 0" not in text  # read before the digest
    assert "Not emailed" not in text  # email is off for comments
    states = await stored(
        db_noti,
        "SELECT resource_name, email_state FROM notifications"
        " WHERE target_user_id::text = %s ORDER BY seq",
        me.user_id,
    )
    assert states == [
        ("Task 0", "skipped"),
        ("Task 1", "sent"),
        ("Task 2", "sent"),
        ("Not emailed", "none"),
    ]


async def test_in_app_off_and_email_on_are_both_observed(
    app_client, smtp_server: SmtpServer, issuer
) -> None:
    async with app_client("noti", digest_window_s=0, **IDLE, **smtp_server.settings()) as noti:
        me, workspace = emailed(issuer), str(uuid.uuid4())
        await opt_in(noti, me, "BOARD_ASSIGNED", in_app=False)
        hidden = await create(noti, me.user_id, workspace, name="Only by email")
        shown = await create(noti, me.user_id, workspace, kind="COMMENT_ADDED", name="In the app")
        assert (hidden["seq"], shown["seq"]) == (None, 1)  # never on the stream
        listed = (await noti.get("/api/notifications", headers=me.at(workspace))).json()
        assert [n["id"] for n in listed["notifications"]] == [shown["id"]]
        count = await noti.get("/api/notifications/unread-count", headers=me.at(workspace))
        assert count.json()["count"] == 1
        read = await noti.patch(f"/api/notifications/{hidden['id']}/read", headers=me.auth)
        assert read.status_code == 404  # not the app's to show or change
        await send_round(noti)
    [message] = smtp_server.to(address_of(me.user_id))
    assert "Only by email" in message.get_content()
    assert "In the app" not in message.get_content()


async def test_a_digest_waits_for_its_window(app_client, smtp_server: SmtpServer, issuer) -> None:
    async with app_client("noti", digest_window_s=3600, **IDLE, **smtp_server.settings()) as noti:
        waiting, due, workspace = emailed(issuer), emailed(issuer), str(uuid.uuid4())
        for who in (waiting, due):
            await opt_in(noti, who, "BOARD_ASSIGNED")
        await create(noti, waiting.user_id, workspace, name="Just now")
        two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        await create(noti, due.user_id, workspace, name="Old", occurredAt=two_hours_ago)
        await create(noti, due.user_id, workspace, name="Newer")  # same digest as "Old"
        await send_round(noti)
    assert smtp_server.to(address_of(waiting.user_id)) == []
    [message] = smtp_server.to(address_of(due.user_id))
    assert "Old" in message.get_content() and "Newer" in message.get_content()


async def test_the_scheduled_job_emails_once_with_two_replicas(
    app_client, smtp_server: SmtpServer, issuer, db_noti
) -> None:
    fast = {"digest_window_s": 0, "digest_interval_s": 0.1, **smtp_server.settings()}
    async with app_client("noti", **fast) as one, app_client("noti", **fast) as two:
        me, workspace = emailed(issuer), str(uuid.uuid4())
        await opt_in(one, me, "BOARD_ASSIGNED")
        items = [event_body(me.user_id, workspace, name=f"Task {n}") for n in range(5)]
        bulk = await two.post(
            "/api/internal/notifications/bulk", json={"notifications": items}, headers=KEY
        )
        assert bulk.status_code == 201  # one commit: both replicas' jobs race for it
        for _ in range(300):
            pending = await stored(
                db_noti,
                "SELECT count(*) FROM notifications WHERE target_user_id::text = %s"
                " AND email_state = 'pending'",
                me.user_id,
            )
            if pending == [(0,)]:
                break
            await asyncio.sleep(0.05)
        assert pending == [(0,)]
        await asyncio.sleep(0.5)  # both replicas run a few more rounds
    sent = smtp_server.to(address_of(me.user_id))
    assert len(sent) == 1
    assert all(f"Task {n}" in sent[0].get_content() for n in range(5))


@pytest.mark.parametrize(
    "change",
    [{"smtp_password": "wrong"}, {"smtp_security": "none"}, {"smtp_ca_file": ""}],
    ids=["bad password", "no tls", "untrusted certificate"],
)
async def test_a_failed_send_stays_pending_for_the_next_round(
    app_client, smtp_server: SmtpServer, issuer, db_noti, change: dict[str, Any]
) -> None:
    settings = {**smtp_server.settings(), **change}
    async with app_client("noti", digest_window_s=0, **IDLE, **settings) as noti:
        me = emailed(issuer)
        await opt_in(noti, me, "BOARD_ASSIGNED")
        await create(noti, me.user_id, str(uuid.uuid4()))
        await send_round(noti)
    assert smtp_server.to(address_of(me.user_id)) == []
    assert await stored(
        db_noti, "SELECT email_state FROM notifications WHERE target_user_id::text = %s", me.user_id
    ) == [("pending",)]


async def test_without_smtp_due_digests_are_skipped(app_client, issuer, db_noti) -> None:
    async with app_client("noti", digest_window_s=0, **IDLE) as noti:
        me = emailed(issuer)
        await opt_in(noti, me, "BOARD_ASSIGNED")
        await create(noti, me.user_id, str(uuid.uuid4()))
        assert noti_ctx(noti).state["mailer"] is None
        await send_round(noti)
    assert await stored(
        db_noti, "SELECT email_state FROM notifications WHERE target_user_id::text = %s", me.user_id
    ) == [("skipped",)]
