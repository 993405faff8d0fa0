"""Revocations: written to auth_db first (the source of truth), then to Redis after commit.

Every service reads Redis (``core.security``), and refuses every token while the
``REVOCATIONS_LOADED`` marker is missing. ``keep_loaded`` runs in the auth service: when
the marker is gone (Redis flushed or restarted empty) or a Redis write failed, it writes
every live revocation back from auth_db and sets the marker again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wealist.auth import store
from wealist.contracts.keys import REVOCATIONS_LOADED, revoked_jti, revoked_session
from wealist.core.db import Database, Tx

__all__ = ("Revocations",)

log = structlog.get_logger("wealist.auth.revocations")

LEEWAY_S = 60  # verifiers accept tokens up to a few seconds past exp


class Revocations:
    def __init__(self, db: Database, redis: Redis, access_ttl_s: int) -> None:
        self._db = db
        self._redis = redis
        self._session_ttl = access_ttl_s + LEEWAY_S  # an access token outlives no longer
        self.dirty = False
        self.reloads = 0

    async def revoke_token(self, tx: Tx, jti: str, expires_at: int) -> None:
        await store.revoke_token(tx, jti, expires_at)
        ttl = max(1, expires_at - int(time.time()) + LEEWAY_S)
        tx.on_commit(lambda: self._publish({revoked_jti(jti): ttl}))

    def sessions_revoked(self, tx: Tx, session_ids: list[uuid.UUID]) -> None:
        """Call in the transaction that revoked them: their access tokens die on commit."""
        if session_ids:
            keys = {revoked_session(str(sid)): self._session_ttl for sid in session_ids}
            tx.on_commit(lambda: self._publish(keys))

    async def _publish(self, keys: dict[str, int]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, ttl in keys.items():
                    _ = pipe.set(key, "1", ex=ttl)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # Durable in auth_db already; the loader writes it again once Redis answers.
            self.dirty = True
            log.warning("auth.revocation_publish_failed", error=type(exc).__name__)

    async def reload(self) -> int:
        """Write every live revocation from auth_db to Redis, then set the marker."""
        async with self._db.connection() as conn:
            tokens = await store.live_revoked_tokens(conn)
            sessions = await store.recently_revoked_sessions(conn, self._session_ttl)
        now = datetime.now(UTC)
        async with self._redis.pipeline(transaction=False) as pipe:
            for token in tokens:
                ttl = int((token.expires_at - now).total_seconds()) + LEEWAY_S
                _ = pipe.set(revoked_jti(token.jti), "1", ex=max(1, ttl))
            for session in sessions:
                ttl = self._session_ttl - int((now - session.revoked_at).total_seconds())
                _ = pipe.set(revoked_session(str(session.id)), "1", ex=max(1, ttl))
            _ = pipe.set(REVOCATIONS_LOADED, "1")
            await pipe.execute()
        self.reloads += 1
        return len(tokens) + len(sessions)

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
