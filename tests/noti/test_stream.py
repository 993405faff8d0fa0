"""The SSE stream in a real ``wealist serve noti`` process (contract 7.2 plus replay):
``connected`` first, ``notification`` events with ids, ``:ping``s, Last-Event-ID replay,
``reset``, the workspace filter, read events on other streams, refusal and expiry."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.noti.support import KEY, Person, create, open_stream, person, stored
from wealist.core.db import Database
from wealist.core.security import REVOCATIONS_CLIENT_NAME
from wealist.noti import store as noti_store

pytestmark = pytest.mark.slow


async def test_connected_first_then_live_notifications_and_pings(noti_proc, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    async with open_stream(noti_proc, me.token) as (response, reader):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        connected = await reader.next()
        assert (connected.event, connected.data) == ("connected", '{"status":"connected"}')
        assert (connected.id, connected.retry) == ("0", 3000)  # the resume point; retry delay
        made = await create(noti_proc, me.user_id, workspace)
        event = await reader.next()
        assert (event.event, event.id) == ("notification", "1")
        assert json.loads(event.data) == made
        await reader.until_ping()
        assert reader.pings >= 1


async def test_a_new_stream_starts_at_the_users_current_position(noti_proc, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    for _ in range(3):
        await create(noti_proc, me.user_id, workspace)
    async with open_stream(noti_proc, me.token) as (_, reader):
        connected = await reader.next()
        assert connected.id == "3"  # what the list already shows is not streamed again
        await create(noti_proc, me.user_id, workspace, name="fresh")
        event = await reader.next()
        assert (event.id, json.loads(event.data)["resourceName"]) == ("4", "fresh")


@pytest.mark.parametrize("how", ["header", "query"])
async def test_resuming_replays_what_was_missed_then_goes_live(noti_proc, issuer, how: str) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    made = [await create(noti_proc, me.user_id, workspace, name=f"n{i}") for i in range(4)]
    kwargs: dict[str, Any] = {"last_id": "1"} if how == "header" else {"query": "&lastEventId=1"}
    async with open_stream(noti_proc, me.token, **kwargs) as (_, reader):
        connected = await reader.next()
        assert (connected.event, connected.id) == ("connected", "1")
        replayed = [await reader.next() for _ in range(3)]
        assert [e.id for e in replayed] == ["2", "3", "4"]
        assert [json.loads(e.data) for e in replayed] == made[1:]
        live = await create(noti_proc, me.user_id, workspace)
        event = await reader.next()
        assert (event.id, json.loads(event.data)["id"]) == ("5", live["id"])


async def test_the_workspace_filter_keeps_one_workspaces_events(noti_proc, issuer) -> None:
    me, mine, other = person(issuer), str(uuid.uuid4()), str(uuid.uuid4())
    await create(noti_proc, me.user_id, other)  # seq 1
    first = await create(noti_proc, me.user_id, mine)  # seq 2
    async with open_stream(noti_proc, me.token, last_id="0", query=f"&workspaceId={mine}") as (
        _,
        reader,
    ):
        assert (await reader.next()).event == "connected"
        replayed = await reader.next()
        assert (replayed.id, json.loads(replayed.data)["id"]) == ("2", first["id"])
        await create(noti_proc, me.user_id, other)  # seq 3: not sent
        live = await create(noti_proc, me.user_id, mine)  # seq 4
        event = await reader.next()
        assert (event.id, json.loads(event.data)["id"]) == ("4", live["id"])
    bad = await noti_proc.get(f"/api/notifications/stream?token={me.token}&workspaceId=nope")
    assert bad.status_code == 400


async def test_reads_reach_the_users_other_streams(noti_proc, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    async with (
        open_stream(noti_proc, me.token) as (_, tab_one),
        open_stream(noti_proc, me.token) as (_, tab_two),
    ):
        for tab in (tab_one, tab_two):
            assert (await tab.next()).event == "connected"
        made = [await create(noti_proc, me.user_id, workspace) for _ in range(2)]
        for tab in (tab_one, tab_two):
            assert [(await tab.next()).id for _ in range(2)] == ["1", "2"]
        read = await noti_proc.patch(f"/api/notifications/{made[0]['id']}/read", headers=me.auth)
        assert read.status_code == 200
        for tab in (tab_one, tab_two):
            event = await tab.next()
            assert (event.event, event.id) == ("read", "2")  # labelled with the last seq sent
            body = json.loads(event.data)
            assert (body["id"], body["workspaceId"]) == (made[0]["id"], workspace)
            assert body["readAt"] == read.json()["readAt"]
        await noti_proc.post("/api/notifications/read-all", headers=me.at(workspace))
        for tab in (tab_one, tab_two):
            event = await tab.next()
            assert (event.event, json.loads(event.data)["markedAsRead"]) == ("read-all", 1)
        await noti_proc.delete(f"/api/notifications/{made[1]['id']}", headers=me.auth)
        for tab in (tab_one, tab_two):
            event = await tab.next()
            assert (event.event, json.loads(event.data)["id"]) == ("deleted", made[1]["id"])


async def test_refused_tokens_get_401_before_any_stream(noti_proc, issuer, revoke) -> None:
    missing = await noti_proc.get("/api/notifications/stream")
    assert missing.status_code == 401
    assert missing.json()["success"] is False
    assert missing.json()["error"]["code"] == "UNAUTHORIZED"
    me = person(issuer)
    await revoke(me.token)
    revoked = await noti_proc.get(f"/api/notifications/stream?token={me.token}")
    assert revoked.status_code == 401
    header = await noti_proc.get("/api/notifications/stream", headers={"Authorization": "Bearer x"})
    assert header.status_code == 401


async def test_the_authorization_header_works_too(noti_proc, issuer) -> None:
    me = person(issuer)
    async with noti_proc.stream("GET", "/api/notifications/stream", headers=me.auth) as response:
        assert response.status_code == 200
        assert "event: connected" in await asyncio.wait_for(anext(response.aiter_text()), 10)


async def test_a_stream_ends_when_its_token_expires(noti_proc, issuer) -> None:
    user_id = str(uuid.uuid4())
    token = issuer.token(user_id, exp=int(time.time()) + 2)
    async with open_stream(noti_proc, token) as (_, reader):
        assert (await reader.next()).event == "connected"
        with pytest.raises(StopAsyncIteration):
            while True:  # pings until the server ends the stream
                await reader.until_ping(timeout=10)


# --- reset ------------------------------------------------------------------------------


@pytest.fixture
async def strict_noti(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Replay capped at 5 events; retention deletes every read notification at once."""
    proc = await service_process(
        "noti",
        env={
            "WEALIST_NOTI_SSE_PING_S": "0.5",
            "WEALIST_NOTI_SSE_REPLAY_MAX": "5",
            "WEALIST_NOTI_RETENTION_DAYS": "0",
            "WEALIST_NOTI_RETENTION_INTERVAL_S": "0.2",
        },
    )
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        yield client


async def _opening(client: httpx.AsyncClient, who: Person, last_id: str) -> list[Any]:
    async with open_stream(client, who.token, last_id=last_id) as (_, reader):
        return [await reader.next(), await reader.next()]


async def test_reset_when_the_client_is_too_far_behind(strict_noti, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    for _ in range(7):
        await create(strict_noti, me.user_id, workspace)
    connected, reset = await _opening(strict_noti, me, "0")
    assert (connected.event, connected.id) == ("connected", "0")
    assert (reset.event, reset.id, json.loads(reset.data)) == ("reset", "7", {"reason": "gap"})
    near = await _opening(strict_noti, me, "3")  # 4 behind: replayed
    assert [e.id for e in near] == ["3", "4"]


@pytest.mark.parametrize("given", ["abc", "-1", "99"])
async def test_reset_for_an_id_that_is_not_ours(strict_noti, issuer, given: str) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    for _ in range(2):
        await create(strict_noti, me.user_id, workspace)
    connected, reset = await _opening(strict_noti, me, given)
    assert connected.event == "connected"
    assert (reset.event, reset.id) == ("reset", "2")


async def test_reset_when_retention_deleted_part_of_the_gap(strict_noti, issuer, db_noti) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    made = [await create(strict_noti, me.user_id, workspace) for _ in range(3)]
    for old in made[:2]:
        await strict_noti.patch(f"/api/notifications/{old['id']}/read", headers=me.auth)
    for _ in range(200):  # the retention job deletes the two read ones
        left = await stored(
            db_noti,
            "SELECT count(*) FROM notifications WHERE target_user_id::text = %s",
            me.user_id,
        )
        if left == [(1,)]:
            break
        await asyncio.sleep(0.05)
    assert left == [(1,)]
    _, reset = await _opening(strict_noti, me, "0")
    assert (reset.event, reset.id) == ("reset", "3")
    _, replayed = await _opening(strict_noti, me, "2")  # after the purged ones: fine
    assert (replayed.event, replayed.id) == ("notification", "3")


# --- across processes -------------------------------------------------------------------


async def test_a_notification_created_on_another_process_reaches_the_stream(
    service_process, issuer
) -> None:
    one = await service_process("noti")
    two = await service_process("noti")
    me, workspace = person(issuer), str(uuid.uuid4())
    async with (
        httpx.AsyncClient(base_url=one.url, timeout=10) as streams,
        httpx.AsyncClient(base_url=two.url, timeout=10) as producer,
        open_stream(streams, me.token) as (_, reader),
    ):
        assert (await reader.next()).event == "connected"
        made = await create(producer, me.user_id, workspace)
        event = await reader.next()
        assert (event.id, json.loads(event.data)["id"]) == ("1", made["id"])


async def test_hundreds_of_streams_share_one_broker_connection(
    service_process, issuer, redis
) -> None:
    """300 streams of 150 users on one process: one pub/sub connection to Redis, one
    channel per user (not per stream), and an event reaches both of a user's streams."""
    proc = await service_process("noti", env={"WEALIST_NOTI_SSE_PING_S": "30"})
    people = [person(issuer) for _ in range(150)]
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=proc.url, timeout=30, limits=limits) as client:
        opened: list[Any] = []
        readers = []
        try:
            for who in [*people, *people]:
                cm = open_stream(client, who.token)
                _, reader = await cm.__aenter__()
                opened.append(cm)
                assert (await reader.next(timeout=30)).event == "connected"
                readers.append(reader)
            clients = (await redis.execute_command("CLIENT", "LIST", "TYPE", "pubsub")).decode()
            # the broker's (the revocation list keeps a subscription of its own)
            lines = [
                line
                for line in clients.splitlines()
                if line.strip() and f" name={REVOCATIONS_CLIENT_NAME} " not in f" {line} "
            ]
            assert len(lines) == 1, clients
            assert " sub=150 " in f" {lines[0]} "
            channel = f"user:{people[0].user_id}"
            assert await redis.pubsub_numsub(channel) == [(channel.encode(), 1)]
            made = await create(client, people[0].user_id, str(uuid.uuid4()))
            for reader in (readers[0], readers[150]):
                event = await reader.next()
                assert json.loads(event.data)["id"] == made["id"]
        finally:
            for cm in reversed(opened):
                await cm.__aexit__(None, None, None)


async def test_events_of_unknown_types_are_acknowledged(noti_proc) -> None:
    body = {"id": str(uuid.uuid4()), "type": "board.moved", "occurred_at": "2026-01-01T00:00:00Z"}
    response = await noti_proc.post("/api/internal/events/noti", json=body, headers=KEY)
    assert response.status_code == 200
    assert response.json() == {"applied": False}


async def test_a_broker_outage_loses_nothing(noti_proc, issuer, redis) -> None:
    """Redis drops the process's pub/sub connection while notifications are published: the
    broker reconnects, the stream replays from the database, nothing is lost or doubled."""
    me, workspace = person(issuer), str(uuid.uuid4())
    async with open_stream(noti_proc, me.token) as (_, reader):
        assert (await reader.next()).event == "connected"
        await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        during = [await create(noti_proc, me.user_id, workspace) for _ in range(3)]
        got = [await reader.next(timeout=20) for _ in range(3)]
        assert [(e.id, json.loads(e.data)["id"]) for e in got] == [
            (str(n + 1), made["id"]) for n, made in enumerate(during)
        ]
        after = await create(noti_proc, me.user_id, workspace)
        event = await reader.next()
        assert (event.id, json.loads(event.data)["id"]) == ("4", after["id"])


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


async def test_the_originals_noti_metrics_are_exported(noti_proc, issuer) -> None:
    me, workspace = person(issuer), str(uuid.uuid4())
    async with open_stream(noti_proc, me.token) as (_, reader):
        await reader.next()
        made = await create(noti_proc, me.user_id, workspace)
        await reader.next()
        await noti_proc.patch(f"/api/notifications/{made['id']}/read", headers=me.auth)
        text = (await noti_proc.get("/metrics")).text
        assert _metric(text, "noti_service_sse_connections_active") == 1
        assert _metric(text, "noti_service_sse_connections_created_total") == 1
        assert _metric(text, "noti_service_notifications_created_total") == 1
        assert _metric(text, "noti_service_notifications_delivered_total") == 1
        assert _metric(text, "noti_service_notifications_read_total") == 1
    await noti_proc.delete(f"/api/notifications/{made['id']}", headers=me.auth)
    for _ in range(100):  # the server notices the closed stream at its next write
        text = (await noti_proc.get("/metrics")).text
        if _metric(text, "noti_service_sse_connections_active") == 0:
            break
        await asyncio.sleep(0.1)
    assert _metric(text, "noti_service_sse_connections_closed_total") == 1
    assert _metric(text, "noti_service_notifications_deleted_total") == 1


async def test_a_notification_whose_publish_was_lost_still_arrives(
    service_process, issuer, environment
) -> None:
    """A process that committed a notification and died before publishing it: the stream
    (on another process) gets it from the tail check, without waiting for a later one."""
    proc = await service_process("noti", env={"WEALIST_NOTI_SSE_TAIL_CHECK_S": "0.5"})
    me, workspace = person(issuer), uuid.uuid4()
    db = Database("noti_db", environment.databases["noti"], min_size=1, max_size=1)
    await db.open(wait=True)
    try:
        async with (
            httpx.AsyncClient(base_url=proc.url, timeout=10) as client,
            open_stream(client, me.token) as (_, reader),
        ):
            assert (await reader.next()).event == "connected"
            async with db.transaction() as tx:  # committed, never published
                [row] = await noti_store.insert_notifications(
                    tx,
                    {
                        "ids": [uuid.uuid4()],
                        "event_ids": [uuid.uuid4()],
                        "types": ["BOARD_ASSIGNED"],
                        "actors": [uuid.uuid4()],
                        "targets": [uuid.UUID(me.user_id)],
                        "workspaces": [workspace],
                        "resource_types": ["board"],
                        "resource_ids": [uuid.uuid4()],
                        "resource_names": ["lost publish"],
                        "metadata": [None],
                        "occurred": [None],
                    },
                )
            event = await reader.next(timeout=10)
            assert (event.event, event.id) == ("notification", "1")
            assert json.loads(event.data)["id"] == str(row.id)
    finally:
        await db.close()
