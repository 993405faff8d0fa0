"""T09 (reliability.md): outbox crash consistency.

A board process and a chat process (``WEALIST_OUTBOX_RELAY=true``) take mutations that
notify someone: a card created with an assignee (``BOARD_ASSIGNED``) and a chat message to
a participant who is offline (``CHAT_MESSAGE``). Each writes its ``notification.requested``
event to its outbox in the mutation's transaction; its relay posts it to the noti process
through a fault proxy. At random mutation counts one process is SIGKILLed and started
again on its port: a producer (board or chat; every other time with the link to noti
down first, so the kill lands between the commit and the relay's publish for sure) or
the consumer, noti. A mutation cut by a kill is sent again (chat with the same
``clientMessageId``, so it is stored once; board creates another card, and both count).

Pass (audit over the three databases): every acked mutation is committed; every committed
mutation has exactly one outbox event and exactly one notification in noti (deduped by
event id: the noti event ids are exactly the outbox's); no event is rejected and none is
left undelivered more than 60 s after the last process is back. Short form 120 mutations /
3 kills; full 2,000 / 20 kills (and noti killed 5 times besides).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.chaos.conftest import Cluster, Node, size
from tests.chaos.test_t05_t06_resume import new_project
from tests.chat.support import create_chat
from tests.plugins.faultproxy import FaultProxy
from tests.user.support import World

pytestmark = pytest.mark.slow

WORKERS = 4  # mutations in flight at once
SLACK = 30  # mutations that may run ahead of a kill that waits for its victim's restart
SEED = 9


@dataclass
class Kill:
    at: int  # acked mutations when it happens
    victim: str  # board, chat or noti
    link_down: bool  # the producers' link to noti was down: committed, not yet published
    pending: int = 0  # events of the victim's outbox still undelivered right after the kill
    restart_s: float = 0.0


@dataclass
class Mutations:
    """What the clients were told: acked cards and messages, and the cut requests."""

    boards: set[str] = field(default_factory=set)
    messages: dict[str, str] = field(default_factory=dict)  # clientMessageId -> messageId
    cut: int = 0  # requests cut (or refused) by a kill, sent again
    gate: int = 0  # no new mutation past this many acked until the next kill happened

    @property
    def acked(self) -> int:
        return len(self.boards) + len(self.messages)


def plan(total: int, producer_kills: int, noti_kills: int) -> list[Kill]:
    """Kill points spread over the middle of the run, victims in turn."""
    rng = random.Random(SEED)
    points = sorted(rng.sample(range(total // 10, total * 9 // 10), producer_kills + noti_kills))
    noti_at = set(rng.sample(range(len(points)), noti_kills))
    kills, producers = [], 0
    for i, at in enumerate(points):
        if i in noti_at:
            kills.append(Kill(at, "noti", link_down=False))
        else:
            # Each producer in turn; two kills behind a down link, then two without.
            victim = ("board", "chat")[producers % 2]
            kills.append(Kill(at, victim, link_down=producers // 2 % 2 == 0))
            producers += 1
    return kills


async def mutate(
    nodes: dict[str, Node], world: World, project: str, chat: str, total: int, done: Mutations
) -> None:
    todo = iter(range(total))
    headers = world.owner.headers

    async def once(http: httpx.AsyncClient, n: int) -> None:
        # Board and chat in turn; the other one while a process is being restarted (a
        # message cut by a kill is sent again to chat, with its clientMessageId).
        kind = "board" if n % 2 == 0 else "chat"
        if not nodes[kind].alive and n % 7:
            kind = "chat" if kind == "board" else "board"
        client_id = f"t09-{n}"
        while True:
            node = nodes[kind]
            if not node.alive:  # being restarted
                await asyncio.sleep(0.02)
                continue
            try:
                if kind == "board":
                    body: dict[str, Any] = {
                        "projectId": project,
                        "title": f"m{n}",
                        "assigneeId": world.admin.user_id,
                    }
                    r = await http.post(f"{node.url}/api/boards", json=body, headers=headers)
                else:
                    body = {"content": f"m{n}", "clientMessageId": client_id}
                    url = f"{node.url}/api/chats/messages/{chat}"
                    r = await http.post(url, json=body, headers=headers)
            except httpx.TransportError:  # cut by a kill: committed or not, send again
                done.cut += 1
                await asyncio.sleep(0.02)
                continue
            if r.status_code == 503:  # a process coming up (readiness) or a dependency
                await asyncio.sleep(0.05)
                continue
            assert r.status_code == 201, r.text
            found = r.json()
            if kind == "board":
                done.boards.add(found["data"]["boardId"])
            else:
                done.messages[client_id] = found.get("data", found)["messageId"]
            return

    async def worker(http: httpx.AsyncClient) -> None:
        for n in todo:
            while done.acked >= done.gate:  # a kill is due (its victim still restarting)
                await asyncio.sleep(0.005)
            await once(http, n)

    async with httpx.AsyncClient(timeout=15) as http:
        await asyncio.gather(*(worker(http) for _ in range(WORKERS)))


async def undelivered(database: Callable[[str], Any], service: str, target: str) -> int:
    """This scenario's events still waiting in ``service``'s outbox."""
    async with database(service) as db:
        cur = await db.execute(
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
            " AND payload->>'targetUserId' = %s",
            (target,),
        )
        row = await cur.fetchone()
    return int(row[0])


async def chaos(
    kills: list[Kill],
    nodes: dict[str, Node],
    cluster: Cluster,
    to_noti: FaultProxy,
    done: Mutations,
    database: Callable[[str], Any],
    target: str,
) -> None:
    """Each kill at its point; the restart runs on while the next kill may come (on
    another process: one still coming up is waited for)."""

    async def restart(kill: Kill, node: Node) -> None:
        started = time.monotonic()
        await cluster.restart(node)
        kill.restart_s = time.monotonic() - started

    restarts: list[asyncio.Task[None]] = []
    try:
        for i, kill in enumerate(kills):
            node = nodes[kill.victim]
            done.gate = kill.at + SLACK  # mutations go on around the kill, not past it
            while done.acked < kill.at or not node.alive:
                await asyncio.sleep(0.005)
            if kill.link_down:
                to_noti.down()  # the relays cannot publish: what commits now stays pending
                await asyncio.sleep(0.1)  # let a few more mutations commit behind it
            node.proc.kill()  # SIGKILL of the process group: no drain, relay cut mid-batch
            if kill.victim != "noti":
                kill.pending = await undelivered(database, kill.victim, target)
            to_noti.heal()
            restarts.append(asyncio.create_task(restart(kill, node)))
            done.gate = kills[i + 1].at + SLACK if i + 1 < len(kills) else 1 << 30
        await asyncio.gather(*restarts)
    finally:
        for task in restarts:
            task.cancel()
        await asyncio.gather(*restarts, return_exceptions=True)


async def audit(
    database: Callable[[str], Any], project: str, chat: str, target: str
) -> dict[str, Any]:
    async with database("board") as db:
        cur = await db.execute("SELECT id::text FROM boards WHERE project_id = %s", (project,))
        boards = [r[0] for r in await cur.fetchall()]
        cur = await db.execute(
            "SELECT event_id::text, payload->>'resourceId', delivered_at IS NOT NULL,"
            " coalesce(last_error, '') FROM outbox WHERE payload->>'targetUserId' = %s",
            (target,),
        )
        board_events = await cur.fetchall()
    async with database("chat") as db:
        cur = await db.execute(
            "SELECT id::text, client_message_id FROM messages WHERE chat_id = %s", (chat,)
        )
        messages = await cur.fetchall()
        cur = await db.execute(
            "SELECT event_id::text, payload->'metadata'->>'messageId', delivered_at IS NOT NULL,"
            " coalesce(last_error, '') FROM outbox WHERE payload->>'targetUserId' = %s",
            (target,),
        )
        chat_events = await cur.fetchall()
    lags: list[float] = []  # commit to delivery, seconds (kills and outages included)
    for service in ("board", "chat"):
        async with database(service) as db:
            cur = await db.execute(
                "SELECT EXTRACT(EPOCH FROM delivered_at - created_at)::float FROM outbox"
                " WHERE payload->>'targetUserId' = %s AND delivered_at IS NOT NULL",
                (target,),
            )
            lags.extend(r[0] for r in await cur.fetchall())
    async with database("noti") as db:
        cur = await db.execute(
            "SELECT event_id::text, type, resource_id::text, metadata->>'messageId'"
            " FROM notifications WHERE target_user_id::text = %s",
            (target,),
        )
        shown = await cur.fetchall()
    return {
        "boards": boards,
        "board_events": board_events,
        "messages": messages,
        "chat_events": chat_events,
        "shown": shown,
        "lags": sorted(lags),
    }


async def test_t09_outbox_events_survive_producer_and_consumer_kills(
    cluster: Cluster,
    fault_proxy: Callable[[str], FaultProxy],
    world: World,
    database: Callable[[str], Any],
    report: Any,
) -> None:
    total = size(120, 2000)
    kills = plan(total, producer_kills=size(2, 20), noti_kills=size(1, 5))
    noti = await cluster.start("noti", env={"WEALIST_SHUTDOWN_DRAIN_S": "1"})
    to_noti = fault_proxy(noti.url)
    relay = {
        "WEALIST_OUTBOX_RELAY": "true",
        "WEALIST_SHUTDOWN_DRAIN_S": "1",
        "WEALIST_SERVICE_URLS": json.dumps({"noti": to_noti.proxied(noti.url)}),
    }
    nodes = {
        "noti": noti,
        "board": await cluster.start("board", env=relay),
        "chat": await cluster.start("chat", env=relay),
    }
    target = world.admin.user_id  # never online: every message to them notifies
    async with httpx.AsyncClient(timeout=15) as http:
        project = await new_project(http, nodes["board"], world)
        http.base_url = httpx.URL(nodes["chat"].url)
        chat = (await create_chat(http, world.owner, world.a, [world.admin], name="T09"))["chatId"]
    done = Mutations(gate=kills[0].at + SLACK)
    started = time.monotonic()
    mutating = asyncio.create_task(mutate(nodes, world, project, chat, total, done))
    killing = asyncio.create_task(chaos(kills, nodes, cluster, to_noti, done, database, target))
    try:
        await asyncio.wait_for(asyncio.gather(mutating, killing), size(180, 1200))
    finally:
        for task in (mutating, killing):
            task.cancel()
        await asyncio.gather(mutating, killing, return_exceptions=True)
        to_noti.heal()
    recovered_at = time.monotonic()
    mutated_s = recovered_at - started

    # Every committed event is delivered, at the latest 60 s after the last restart.
    drained = False
    while time.monotonic() - recovered_at < 60:
        if not await undelivered(database, "board", target) and not await undelivered(
            database, "chat", target
        ):
            drained = True
            break
        await asyncio.sleep(0.1)
    drained_s = time.monotonic() - recovered_at
    assert drained, "outbox events left undelivered 60 s after recovery"
    found = await audit(database, project, chat, target)

    # Acked -> committed, once (a chat retry with the same clientMessageId is one row).
    boards = set(found["boards"])
    assert done.boards <= boards
    stored_messages = {cid: mid for mid, cid in found["messages"]}
    assert len(stored_messages) == len(found["messages"])
    assert {cid: stored_messages.get(cid) for cid in done.messages} == done.messages
    # Committed -> exactly one event in the producer's outbox, delivered, none rejected.
    events = found["board_events"] + found["chat_events"]
    assert [e for e in events if not e[2] or e[3].startswith("rejected")] == []
    assert Counter(e[1] for e in found["board_events"]) == Counter(boards)
    message_ids = {mid for mid, _ in found["messages"]}
    assert Counter(e[1] for e in found["chat_events"]) == Counter(message_ids)
    # Event -> exactly one notification (dedupe by event id), nothing else.
    shown = found["shown"]
    assert Counter(s[0] for s in shown) == Counter(e[0] for e in events)
    assert Counter(s[2] for s in shown if s[1] == "BOARD_ASSIGNED") == Counter(boards)
    assert Counter(s[3] for s in shown if s[1] == "CHAT_MESSAGE") == Counter(message_ids)
    # The kills landed where they should: some between a commit and its publish.
    assert any(k.pending for k in kills if k.link_down)
    assert {k.victim for k in kills} == {"board", "chat", "noti"}
    report(
        "T09",
        mutations_acked=done.acked,
        committed=len(boards) + len(message_ids),
        notifications=len(shown),
        kills=len(kills),
        kill_points=[[k.at, k.victim, k.pending] for k in kills],
        killed_with_pending_events=sum(1 for k in kills if k.pending),
        restart_s_max=round(max(k.restart_s for k in kills), 2),
        requests_cut=done.cut,
        lost=0,
        duplicates=0,
        drained_after_recovery_s=round(drained_s, 2),
        publish_lag_s_p50=round(found["lags"][len(found["lags"]) // 2], 3),
        publish_lag_s_p99=round(found["lags"][len(found["lags"]) * 99 // 100], 3),
        mutating_s=round(mutated_s, 1),
    )
