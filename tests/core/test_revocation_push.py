"""The pushed revocation list (``core.security.PushedRevocations``) against the harness's
real Redis: revocations arrive by push at independent verifiers, a missed push is found
(by the next push's sequence number, or by the periodic check) and answered by a reload,
a new epoch reloads, the list refuses everything whenever it cannot be trusted, and a
verify makes no Redis round trip at all.

Nothing of ours is patched: pushes are published by auth's own script
(``publish_revocations``) or, to make one go missing, by writing Redis directly. Waits are
on observable conditions with a bound (``eventually``), never on the clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from tests.core.realtime.waiting import eventually
from tests.core.test_security import PROBE, revocations_of
from tests.plugins.faultproxy import FaultProxy
from tests.plugins.harness import ISSUER, TokenIssuer
from wealist.auth.revocations import publish_revocations
from wealist.contracts.keys import (
    REVOCATIONS_CHANNEL,
    REVOCATIONS_LIVE,
    REVOCATIONS_LOADED,
    REVOCATIONS_SEQ,
    RevocationPush,
    jti_entry,
    session_entry,
)
from wealist.core.errors import TokenReason, TokenRejected
from wealist.core.security import (
    Principal,
    PushedRevocations,
    RevocationsNotLoadedError,
    StaticKeySet,
    TokenVerifier,
)
from wealist.devstack.servers import free_port

QUIET = 3600.0  # a check interval no test outlives: only pushes bring news


def principal(sid: str | None = None) -> Principal:
    return Principal(
        user_id=str(uuid.uuid4()),
        jti=uuid.uuid4().hex,
        expires_at=int(time.time()) + 900,
        session_id=sid,
    )


def later(seconds: int = 900) -> int:
    return int(time.time()) + seconds


async def refused(revocations: PushedRevocations, who: Principal) -> bool:
    return await revocations.is_revoked(who)


@pytest.fixture
async def loaded(redis: Redis) -> AsyncIterator[Redis]:
    """The shared Redis with the marker set (as auth leaves it); put back as found."""
    marker = await redis.get(REVOCATIONS_LOADED)
    if marker is None:
        await redis.set(REVOCATIONS_LOADED, "1")
    try:
        yield redis
    finally:
        await redis.set(REVOCATIONS_LOADED, marker or "1")


@pytest.fixture
def verifier() -> Callable[..., Any]:
    """``async with verifier(url, **options) as revocations``: an independent verifier
    (its own Redis client and connections, as in another process), running."""

    @asynccontextmanager
    async def started(url: str, **options: Any) -> AsyncIterator[PushedRevocations]:
        client = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        revocations = PushedRevocations(client, **options)
        try:
            async with revocations.running():
                yield revocations
        finally:
            await client.aclose()

    return started


async def test_a_revocation_reaches_independent_verifiers_by_push(
    loaded: Redis, redis_url: str, verifier: Callable[..., Any]
) -> None:
    token, sid = principal(), str(uuid.uuid4())
    same_session, other = principal(sid), principal(str(uuid.uuid4()))
    async with (
        verifier(redis_url, check_interval_s=QUIET) as first,
        verifier(redis_url, check_interval_s=QUIET) as second,
    ):
        for revocations in (first, second):
            assert revocations.trusted and revocations.snapshots == 1
            assert not await revocations.is_revoked(token)
        seq = await publish_revocations(loaded, [(jti_entry(token.jti), later())])
        await publish_revocations(loaded, [(session_entry(sid), later())])
        for revocations in (first, second):
            await eventually(lambda r=revocations: refused(r, same_session))
            assert await revocations.is_revoked(token)
            assert not await revocations.is_revoked(other)
            # by the push alone: no second snapshot, no periodic check
            assert (revocations.snapshots, revocations.checks) == (1, 0)
            assert revocations.applied == 2 and revocations.seq == seq + 1


async def test_each_publish_is_one_atomic_script_keeping_every_trace(loaded: Redis) -> None:
    """The per-key entries stay (other readers use them), the live set holds the entry with
    its expiry and loses the expired, the sequence moves by one, one message goes out."""
    jti, expiry = uuid.uuid4().hex, later(600)
    await loaded.zadd(REVOCATIONS_LIVE, {"jti:long-gone": 1})
    before = int(await loaded.get(REVOCATIONS_SEQ) or 0)
    pubsub = loaded.pubsub()
    await pubsub.subscribe(REVOCATIONS_CHANNEL)
    try:
        assert (await pubsub.get_message(timeout=5))["type"] == "subscribe"
        seq = await publish_revocations(loaded, [(jti_entry(jti), expiry)])
        message = await eventually(lambda: pubsub.get_message(timeout=1))
    finally:
        await pubsub.aclose()
    assert seq == before + 1
    assert int(await loaded.get(REVOCATIONS_SEQ)) == seq
    assert await loaded.zscore(REVOCATIONS_LIVE, jti_entry(jti)) == expiry
    assert await loaded.zscore(REVOCATIONS_LIVE, "jti:long-gone") is None
    assert 0 < await loaded.ttl(f"auth:revoked:jti:{jti}") <= 600
    push = msgspec.json.decode(message["data"], type=RevocationPush)
    marker = (await loaded.get(REVOCATIONS_LOADED)).decode()
    assert push == RevocationPush(epoch=marker, seq=seq, entries=[(jti_entry(jti), expiry)])


async def test_a_skipped_sequence_number_is_answered_by_a_reload(
    loaded: Redis, redis_url: str, verifier: Callable[..., Any]
) -> None:
    lost, next_one = principal(), principal()
    async with verifier(redis_url, check_interval_s=QUIET) as revocations:
        # A publish whose message never arrives: its entry and its increment, no PUBLISH.
        await loaded.zadd(REVOCATIONS_LIVE, {jti_entry(lost.jti): later()})
        await loaded.incr(REVOCATIONS_SEQ)
        assert not await revocations.is_revoked(lost)  # nothing says so yet
        # The next push carries seq + 2: the verifier knows it missed one and reloads.
        await publish_revocations(loaded, [(jti_entry(next_one.jti), later())])
        await eventually(lambda: revocations.snapshots == 2)
        assert revocations.trusted
        assert await revocations.is_revoked(lost)
        assert await revocations.is_revoked(next_one)
        assert revocations.seq == int(await loaded.get(REVOCATIONS_SEQ))


async def test_a_missed_last_push_is_found_by_the_periodic_check(
    loaded: Redis, redis_url: str, verifier: Callable[..., Any]
) -> None:
    """No later push reveals it: the MGET of sequence and marker does (a PING on the
    subscription first lets any push still in flight arrive, so that is no false alarm)."""
    lost = principal()
    async with verifier(redis_url, check_interval_s=0.05) as revocations:
        await eventually(lambda: revocations.checks >= 2)
        assert revocations.snapshots == 1  # checks in quiet times reload nothing
        await loaded.zadd(REVOCATIONS_LIVE, {jti_entry(lost.jti): later()})
        await loaded.incr(REVOCATIONS_SEQ)
        await eventually(lambda: refused(revocations, lost))
        assert revocations.snapshots == 2
        # pushes that do arrive while checks run are applied, never taken for a gap
        for _ in range(20):
            await publish_revocations(loaded, [(jti_entry(uuid.uuid4().hex), later())])
        assert await revocations.sync()
        assert revocations.snapshots == 2 and revocations.applied == 20


async def test_sync_waits_for_everything_published_before(
    loaded: Redis, redis_url: str, verifier: Callable[..., Any]
) -> None:
    async with verifier(redis_url, check_interval_s=QUIET) as revocations:
        who = principal()
        await publish_revocations(loaded, [(jti_entry(who.jti), later())])
        assert await revocations.sync()
        assert await revocations.is_revoked(who)  # applied when sync returned, no polling


async def test_a_new_epoch_reloads_the_list(
    loaded: Redis, redis_url: str, verifier: Callable[..., Any]
) -> None:
    written_back, behind_the_back = principal(), principal()
    async with verifier(redis_url, check_interval_s=QUIET) as revocations:
        # auth's reload: the whole list written back, then a new epoch and "reloaded"
        await loaded.zadd(REVOCATIONS_LIVE, {jti_entry(written_back.jti): later()})
        await publish_revocations(loaded, [], epoch=uuid.uuid4().hex)
        await eventually(lambda: revocations.snapshots == 2)
        assert revocations.trusted and await revocations.is_revoked(written_back)
        # another epoch set with no push at all: the periodic check (run now) reloads
        await loaded.zadd(REVOCATIONS_LIVE, {jti_entry(behind_the_back.jti): later()})
        await loaded.set(REVOCATIONS_LOADED, uuid.uuid4().hex)
        assert await revocations.sync()
        assert revocations.snapshots == 3 and await revocations.is_revoked(behind_the_back)


async def test_refuses_everything_while_the_marker_is_missing(
    loaded: Redis, redis_url: str, verifier: Callable[..., Any]
) -> None:
    who = principal()
    async with verifier(redis_url, check_interval_s=QUIET) as revocations:
        await loaded.delete(REVOCATIONS_LOADED)
        # a push published meanwhile says so (its epoch is null) ...
        await publish_revocations(loaded, [(jti_entry(uuid.uuid4().hex), later())])
        await eventually(lambda: not revocations.trusted)
        with pytest.raises(RevocationsNotLoadedError):
            await revocations.is_revoked(who)
        assert not await revocations.sync()  # ... and so does the check
        await loaded.set(REVOCATIONS_LOADED, uuid.uuid4().hex)  # auth wrote the list back
        assert await revocations.sync()
        assert not await revocations.is_revoked(who)


async def test_refuses_before_the_first_snapshot_and_without_redis(
    verifier: Callable[..., Any],
) -> None:
    with pytest.raises(RevocationsNotLoadedError):
        await PushedRevocations(Redis.from_url("redis://127.0.0.1:1/0")).is_revoked(principal())
    async with verifier(f"redis://127.0.0.1:{free_port()}/0") as revocations:
        assert not revocations.trusted
        with pytest.raises(RevocationsNotLoadedError):
            await revocations.is_revoked(principal())
        assert not await revocations.sync()


async def test_a_subscription_that_stops_answering_is_dropped_and_reconnected(
    loaded: Redis, redis_url: str, fault_proxy: Callable[[str], FaultProxy], verifier: Any
) -> None:
    """A partition no read notices (no RST, no FIN): the check's PING finds it."""
    proxy = fault_proxy(redis_url)
    who = principal()
    async with verifier(proxy.proxied(redis_url), check_interval_s=0.1, timeout_s=0.5) as r:
        assert r.trusted
        proxy.stall()
        await eventually(lambda: not r.trusted)
        with pytest.raises(RevocationsNotLoadedError):
            await r.is_revoked(who)
        await publish_revocations(loaded, [(jti_entry(who.jti), later())])  # while cut off
        proxy.heal()
        await eventually(lambda: r.trusted)
        assert await r.is_revoked(who)  # in the snapshot of the new subscription
        assert r.connections >= 2


def test_entries_count_until_their_expiry_and_are_then_dropped() -> None:
    now = [1_000_000.0]
    revocations = PushedRevocations(Redis.from_url("redis://127.0.0.1:1/0"), clock=lambda: now[0])
    revocations._trusted = True  # what a loaded snapshot does; no Redis in this test
    token, sid = principal(), str(uuid.uuid4())
    revocations.add([(jti_entry(token.jti), 1_000_100), (session_entry(sid), 1_000_200)])
    revocations.add([(jti_entry("already-expired"), 999_999), ("bogus", 1_000_500)])
    assert len(revocations) == 2
    now[0] = 1_000_150.0
    revocations._prune()
    assert len(revocations) == 1  # the token's entry is gone, the session's stays


async def test_the_verify_path_makes_no_redis_round_trip(
    loaded: Redis, redis_url: str, issuer: TokenIssuer, verifier: Callable[..., Any]
) -> None:
    """Counted by Redis itself: every command any client sent, before and after."""
    key = issuer.keys[0]
    keys = StaticKeySet({key.kid: key.private.public_key()})
    revoked = issuer.token(sid=str(uuid.uuid4()))
    distinct = [issuer.token(sid=str(uuid.uuid4())) for _ in range(100)]
    async with verifier(redis_url, check_interval_s=QUIET) as revocations:
        tokens = TokenVerifier(keys, revocations, ISSUER)
        gone = await tokens.verify(revoked)
        await publish_revocations(loaded, [(jti_entry(gone.jti), later())])
        assert await revocations.sync()
        before = await commands(loaded)
        for _ in range(1000):
            await tokens.verify(distinct[0])
        for token in distinct:
            await tokens.verify(token)
        for _ in range(100):
            with pytest.raises(TokenRejected) as refusal:
                await tokens.verify(revoked)
            assert refusal.value.reason is TokenReason.REVOKED
        after = await commands(loaded)
        assert after == before


async def test_an_app_verifies_requests_without_a_redis_round_trip(
    app_client: Callable[..., Any], issuer: TokenIssuer, redis: Redis
) -> None:
    """A whole service: while at least 300 requests are verified (and until the list made
    two periodic checks), Redis executes nothing but those checks (one MGET and one PING
    each; one more may straddle either count). A round trip per verify would be 300."""
    headers = {"Authorization": f"Bearer {issuer.token()}"}
    async with app_client("board", routes=PROBE) as client:
        revocations = revocations_of(client, "board")
        assert (await client.get("/probe/me", headers=headers)).status_code == 200
        checks, snapshots = revocations.checks, revocations.snapshots
        before = await commands(redis)
        requests = 0
        while requests < 300 or revocations.checks - checks < 2:
            assert (await client.get("/probe/me", headers=headers)).status_code == 200
            requests += 1
            assert requests < 1_000_000
        after = await commands(redis)
        checks, snapshots = revocations.checks - checks, revocations.snapshots - snapshots
    delta = {name: n - before.get(name, 0) for name, n in after.items()}
    delta = {name: n for name, n in delta.items() if n}
    assert snapshots == 0
    assert set(delta) <= {"mget", "ping"}, delta
    assert delta.get("mget", 0) <= checks + 1 and delta.get("ping", 0) <= checks + 1, delta


async def commands(redis: Redis) -> dict[str, int]:
    """Redis's per-command call counts, ``INFO`` (this very probe) left out."""
    stats = await redis.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name != "cmdstat_info"
    }
