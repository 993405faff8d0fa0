"""Revocations: written to auth_db first (the source of truth), then pushed through Redis.

After commit, each publish is one atomic script (:func:`publish_revocations`): the per-key
entries (``auth:revoked:jti:*``/``sid:*`` with their TTL), the live sorted set, one
increment of the sequence and one message on the channel, which every service's
``core.security.PushedRevocations`` applies to the copy it holds in-process. The auth
service's own copy takes them at commit already.

Every service refuses every token while the ``REVOCATIONS_LOADED`` marker is missing.
``keep_loaded`` runs in the auth service: when the marker is gone (Redis flushed or
restarted empty) or a Redis write failed, it writes every live revocation back from
auth_db, sets the marker to a new epoch and pushes "reloaded", so every service loads the
list again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Sequence

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wealist.auth import store
from wealist.contracts.keys import (
    REVOCATIONS_CHANNEL,
    REVOCATIONS_LIVE,
    REVOCATIONS_LOADED,
    REVOCATIONS_SEQ,
    jti_entry,
    revoked_jti,
    revoked_session,
    session_entry,
)
from wealist.core.db import Database, Tx
from wealist.core.security import PushedRevocations

__all__ = ("Revocations", "publish_revocations")

log = structlog.get_logger("wealist.auth.revocations")

LEEWAY_S = 60  # verifiers accept tokens up to a few seconds past exp
RELOAD_CHUNK = 1000  # entries per pipeline round trip when the whole list is written back

# KEYS: the live set, the sequence, the marker, then the per-entry key of each entry.
# ARGV: channel, now, the entries as JSON, a new epoch ("" keeps the marker), then
# member and expiry of each entry. Returns the new sequence number.
_PUBLISH = """
local now = tonumber(ARGV[2])
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3], ARGV[4])
end
for i = 4, #KEYS do
  local member = ARGV[5 + (i - 4) * 2]
  local expiry = tonumber(ARGV[6 + (i - 4) * 2])
  redis.call('SET', KEYS[i], '1', 'EX', math.max(1, expiry - now))
  redis.call('ZADD', KEYS[1], expiry, member)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local seq = redis.call('INCR', KEYS[2])
local epoch = redis.call('GET', KEYS[3])
local message = '{"epoch":' .. (epoch and cjson.encode(epoch) or 'null') .. ',"seq":' .. seq
  .. ',"entries":' .. ARGV[3]
if ARGV[4] ~= '' then
  message = message .. ',"reloaded":true'
end
redis.call('PUBLISH', ARGV[1], message .. '}')
return seq
"""

_encode = msgspec.json.Encoder().encode


def _key_of(member: str) -> str:
    kind, _, ident = member.partition(":")
    return revoked_jti(ident) if kind == "jti" else revoked_session(ident)


async def publish_revocations(
    redis: Redis,
    entries: Sequence[tuple[str, int]],
    *,
    epoch: str | None = None,
    now: int | None = None,
) -> int:
    """One atomic script call: the per-key entries, the live set (expired members pruned),
    the sequence incremented and one message published. ``entries`` are
    ``(member, expiry)`` (``jti_entry``/``session_entry``, epoch seconds); ``epoch``
    also sets the marker to it and says "reloaded". Returns the new sequence number."""
    moment = int(time.time()) if now is None else now
    script = redis.register_script(_PUBLISH)
    args: list[str | int] = [REVOCATIONS_CHANNEL, moment, _encode(entries).decode(), epoch or ""]
    for member, expiry in entries:
        args += [member, int(expiry)]
    keys = [REVOCATIONS_LIVE, REVOCATIONS_SEQ, REVOCATIONS_LOADED]
    keys += [_key_of(member) for member, _ in entries]
    seq = await script(keys=keys, args=args)
    return int(seq)


class Revocations:
    def __init__(
        self,
        db: Database,
        redis: Redis,
        access_ttl_s: int,
        local: PushedRevocations | None = None,
    ) -> None:
        self._db = db
        self._redis = redis
        self._local = local  # this service's own verifier: told at commit, before the push
        self._session_ttl = access_ttl_s + LEEWAY_S  # an access token outlives no longer
        self.dirty = False
        self.reloads = 0

    async def revoke_token(self, tx: Tx, jti: str, expires_at: int) -> None:
        await store.revoke_token(tx, jti, expires_at)
        entry = (jti_entry(jti), expires_at + LEEWAY_S)
        tx.on_commit(lambda: self._publish([entry]))

    def sessions_revoked(self, tx: Tx, session_ids: list[uuid.UUID]) -> None:
        """Call in the transaction that revoked them: their access tokens die on commit."""
        if session_ids:
            members = [session_entry(str(sid)) for sid in session_ids]
            tx.on_commit(
                lambda: self._publish([(m, int(time.time()) + self._session_ttl) for m in members])
            )

    async def _publish(self, entries: list[tuple[str, int]]) -> None:
        if self._local is not None:
            self._local.add(entries)
        try:
            await publish_revocations(self._redis, entries)
        except (RedisError, OSError, RuntimeError) as exc:
            # Durable in auth_db already; the loader writes it again once Redis answers.
            self.dirty = True
            log.warning("auth.revocation_publish_failed", error=type(exc).__name__)

    async def reload(self) -> int:
        """Write every live revocation from auth_db to Redis, then set the marker to a new
        epoch and push "reloaded" (the marker comes last: whoever sees the new epoch sees
        the whole list)."""
        async with self._db.connection() as conn:
            tokens = await store.live_revoked_tokens(conn)
            sessions = await store.recently_revoked_sessions(conn, self._session_ttl)
        now = int(time.time())
        entries = [(jti_entry(t.jti), int(t.expires_at.timestamp()) + LEEWAY_S) for t in tokens]
        entries += [
            (session_entry(str(s.id)), int(s.revoked_at.timestamp()) + self._session_ttl)
            for s in sessions
        ]
        entries = [(member, expiry) for member, expiry in entries if expiry > now]
        if self._local is not None:
            self._local.add(entries)
        for start in range(0, len(entries), RELOAD_CHUNK):
            async with self._redis.pipeline(transaction=False) as pipe:
                chunk = entries[start : start + RELOAD_CHUNK]
                for member, expiry in chunk:
                    _ = pipe.set(_key_of(member), "1", ex=max(1, expiry - now))
                _ = pipe.zadd(REVOCATIONS_LIVE, dict(chunk))
                await pipe.execute()
        await publish_revocations(self._redis, [], epoch=secrets.token_hex(8), now=now)
        self.reloads += 1
        return len(entries)

    async def keep_loaded(self, stop: asyncio.Event, interval_s: float = 2.0) -> None:
        """Until ``stop``: reload when the marker is missing or a write was lost; prune hourly.

        Stopped by an event, not by cancellation: redis-py can swallow a cancellation
        that lands inside a command, which would leave a cancelled loop running on.
        """
        next_prune = 0.0
        while not stop.is_set():
            try:
                if self.dirty or not await self._redis.exists(REVOCATIONS_LOADED):
                    self.dirty = False
                    count = await self.reload()
                    log.info("auth.revocations_loaded", count=count)
                if time.monotonic() >= next_prune:
                    async with self._db.connection() as conn:
                        await store.prune_revoked_tokens(conn)
                    next_prune = time.monotonic() + 3600
            except Exception as exc:  # noqa: BLE001 - keep trying; verifiers fail closed meanwhile
                self.dirty = True
                log.warning("auth.revocations_load_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
