"""Access-token verification done locally by every service.

RS256 only. Keys come from the auth service's JWKS, cached by ``kid``; an unknown ``kid``
triggers at most one refetch per interval. ``iss``, ``aud``, ``exp`` and ``type == "access"``
are checked, and a revoked ``jti`` or session (``sid``) is rejected from a copy of the
revocation list held in this process (:class:`PushedRevocations`): auth pushes every
revocation over Redis pub/sub, and a verify makes no round trip. When that copy cannot be
trusted (Redis down, a push missed and being reloaded, or Redis emptied and not yet
reloaded by auth) every token is refused (fail closed): a logged-out token must never work
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import httpx
import jwt
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wealist.contracts.keys import (
    REVOCATIONS_CHANNEL,
    REVOCATIONS_LIVE,
    REVOCATIONS_LOADED,
    REVOCATIONS_SEQ,
    RevocationPush,
)
from wealist.core.errors import TokenReason, TokenRejected
from wealist.core.jobs import cancel_and_wait

__all__ = (
    "REVOCATIONS_CLIENT_NAME",
    "JwksKeySet",
    "KeySet",
    "Principal",
    "PushedRevocations",
    "RevocationList",
    "RevocationsNotLoadedError",
    "StaticKeySet",
    "TokenVerifier",
    "bearer_token",
)

log = structlog.get_logger("wealist.security")

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
DEFAULT_AUDIENCE = "wealist-api"
MAX_TOKEN_BYTES = 8192
REVOCATIONS_CLIENT_NAME = "wealist-revocations"  # the revocation list's Redis connections
# How often the revocation loop looks up from its subscription when nothing arrives: for
# the stop event and sync() callers (a few dozen microseconds each time).
POLL_S = 0.05


class Principal(msgspec.Struct, frozen=True, gc=False):
    """The verified caller of a request."""

    user_id: str
    jti: str
    expires_at: int
    email: str | None = None
    session_id: str | None = None  # the refresh family the token was issued under


class KeySet(Protocol):
    async def get(self, kid: str) -> RSAPublicKey | None: ...


class RevocationList(Protocol):
    async def is_revoked(self, principal: Principal) -> bool:
        """True if the token or its session is revoked; raises when that cannot be known."""
        ...


class RevocationsNotLoadedError(RuntimeError):
    """The revocation list cannot be trusted (not loaded yet, Redis down or emptied, a
    missed push being reloaded): nothing can be accepted."""


class StaticKeySet:
    """Keys known in-process (the auth service's own, or a test issuer's)."""

    def __init__(self, keys: dict[str, RSAPublicKey]) -> None:
        self._keys = dict(keys)

    async def get(self, kid: str) -> RSAPublicKey | None:
        return self._keys.get(kid)


class JwksKeySet:
    """Public keys fetched from a JWKS URL, cached by ``kid``.

    A miss refetches the document, at most once per ``refetch_interval`` seconds (a failed
    fetch may be retried after one second), so a flood of made-up ``kid`` values cannot
    turn into a flood of requests to the auth service. The document is also refetched
    once it is ``max_age`` old, so a key the auth service retired stops verifying; if that
    fetch fails the cached keys stay in use.
    """

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        refetch_interval: float = 30.0,
        max_age: float = 300.0,
    ) -> None:
        self.url = url
        self._client = client
        self._interval = refetch_interval
        self._max_age = max_age
        self._keys: dict[str, RSAPublicKey] = {}
        self._next_fetch = 0.0
        self._stale_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self, kid: str) -> RSAPublicKey | None:
        key = self._keys.get(kid)
        if key is not None and (time.monotonic() < self._stale_at or self._lock.locked()):
            return key  # fresh, or being refreshed by another request: do not wait for it
        async with self._lock:
            now = time.monotonic()
            due = kid not in self._keys or now >= self._stale_at
            if due and now >= self._next_fetch:
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self.fetches += 1
        try:
            response = await self._client.get(self.url, timeout=5.0)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("security.jwks_fetch_failed", url=self.url, error=str(exc))
            self._next_fetch = time.monotonic() + 1.0
            return
        self._keys = parse_jwks(document)
        self._next_fetch = time.monotonic() + self._interval
        self._stale_at = time.monotonic() + self._max_age


def parse_jwks(document: Any) -> dict[str, RSAPublicKey]:
    """RSA signing keys of a JWKS document; anything else in it is ignored."""
    keys: dict[str, RSAPublicKey] = {}
    for jwk in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = RSAAlgorithm.from_jwk(jwk)
        except (jwt.InvalidKeyError, ValueError, KeyError):
            continue
        if isinstance(key, RSAPublicKey):
            keys[str(jwk["kid"])] = key
    return keys


class PushedRevocations:
    """The revocation list, held in this process and kept current by auth's pushes.

    One background task (:meth:`running`) owns two dedicated Redis connections: one
    SUBSCRIBEd to ``REVOCATIONS_CHANNEL``, one for its own reads. It subscribes first,
    then loads a snapshot (marker/epoch, sequence and the live set, in one MULTI), then
    applies each push: the next sequence number is applied, an older one is already in
    the snapshot, a jump or another epoch means a push was missed, and the snapshot is
    loaded again. Every ``check_interval_s`` it reads the sequence and the marker (one
    MGET), then sends a PING on the subscription: Redis answers it after every message
    published before the MGET, so a sequence still ahead once the PONG is in was really
    missed (and is reloaded; a push merely in flight is no false alarm), another epoch or
    a missing marker is seen without any push, and a subscription that does not answer
    is dropped and reconnected (with a backoff doubling to ``max_retry_delay_s``).

    :meth:`is_revoked` looks in two dicts and never waits on I/O. It raises
    :class:`RevocationsNotLoadedError` whenever the copy cannot be trusted: before the
    first snapshot, while the subscription is down, while the marker is missing, and
    while a reload after a missed push is in progress. Entries carry their expiry and are
    dropped once past it. Adding a revocation (:meth:`add`) is always safe: the list only
    ever grows until entries expire.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        check_interval_s: float = 1.0,
        timeout_s: float = 2.0,
        retry_delay_s: float = 0.1,
        max_retry_delay_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        pool = redis.connection_pool
        self._connection_class = pool.connection_class
        # RESP2 (pub/sub replies are plain arrays), no health-check PING slipped into the
        # subscription, no retries of our own commands: the loop decides what a failure means.
        self._connection_kwargs: dict[str, Any] = {
            **pool.connection_kwargs,
            "protocol": 2,
            "health_check_interval": 0,
            "socket_timeout": timeout_s,
            "retry": Retry(NoBackoff(), 0),
            "client_name": REVOCATIONS_CLIENT_NAME,  # how CLIENT LIST tells them apart
        }
        self._interval = check_interval_s
        self._timeout = timeout_s
        self._retry_delay = retry_delay_s
        self._max_retry_delay = max_retry_delay_s
        self._clock = clock
        self._jtis: dict[str, int] = {}
        self._sids: dict[str, int] = {}
        self._expiries: list[tuple[int, str]] = []  # (expiry, member): a heap, for pruning
        self._trusted = False
        self._reason = "not started"
        self._epoch: str | None = None
        self._seq = 0
        self._pings = 0
        self._failures = 0
        # sync() callers: (their loop, their future). A test client may run the app's
        # lifespan (this loop) in a thread of its own, so they are handed over under a lock.
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = []
        self._waiters_lock = threading.Lock()
        self._settled: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._users = 0
        self.connections = 0  # sessions established (subscribed and snapshot loaded)
        self.snapshots = 0  # snapshots loaded, the first included
        self.applied = 0  # pushes applied in sequence
        self.checks = 0  # periodic checks made (one MGET and one PING each)

    # --- the hot path -----------------------------------------------------------------

    async def is_revoked(self, principal: Principal) -> bool:
        if not self._trusted:
            raise RevocationsNotLoadedError(self._reason)
        now = self._clock()
        expiry = self._jtis.get(principal.jti)
        if expiry is not None and expiry > now:
            return True
        sid = principal.session_id
        if sid is not None:
            expiry = self._sids.get(sid)
            if expiry is not None and expiry > now:
                return True
        return False

    @property
    def trusted(self) -> bool:
        """Whether :meth:`is_revoked` answers (False: it refuses everything)."""
        return self._trusted

    @property
    def seq(self) -> int:
        """The sequence number of the last push applied (or of the snapshot)."""
        return self._seq

    def __len__(self) -> int:
        return len(self._jtis) + len(self._sids)

    def add(self, entries: Iterable[tuple[str, int]]) -> None:
        """Apply revocations (``(member, expiry)``) at once, e.g. the auth service's own at
        commit; the push brings them again, which changes nothing."""
        now = self._clock()
        for member, expiry in entries:
            kind, _, ident = member.partition(":")
            found = self._jtis if kind == "jti" else self._sids if kind == "sid" else None
            if found is None or not ident or expiry <= now:
                continue
            known = found.get(ident)
            if known is None or known < expiry:
                found[ident] = expiry
                heapq.heappush(self._expiries, (expiry, member))

    def _prune(self) -> None:
        now = self._clock()
        heap = self._expiries
        while heap and heap[0][0] <= now:
            _, member = heapq.heappop(heap)
            kind, _, ident = member.partition(":")
            found = self._jtis if kind == "jti" else self._sids
            expiry = found.get(ident)
            if expiry is not None and expiry <= now:
                del found[ident]

    # --- lifecycle --------------------------------------------------------------------

    @asynccontextmanager
    async def running(self, wait_s: float = 3.0) -> AsyncIterator[PushedRevocations]:
        """Keep the list current while the block runs (shared: the first user starts it,
        the last stops it). Waits up to ``wait_s`` for the first attempt to settle, so a
        service starts with its list loaded when Redis answers."""
        self._users += 1
        try:
            if self._task is None:
                self._stop = asyncio.Event()
                self._settled = asyncio.Event()
                self._task = asyncio.create_task(self._run(self._stop), name="revocations")
            with contextlib.suppress(TimeoutError):
                assert self._settled is not None
                await asyncio.wait_for(self._settled.wait(), wait_s)
            yield self
        finally:
            self._users -= 1
            if self._users == 0:
                await self._halt()

    async def _halt(self) -> None:
        task, stop = self._task, self._stop
        self._task = None
        if task is None or stop is None:
            return
        # Stopped by an event: redis-py can swallow a cancellation that lands inside a
        # command. The loop looks at the event every POLL_S; a task still running after
        # a command's timeout is cancelled (and waited for, boundedly).
        stop.set()
        _, pending = await asyncio.wait({task}, timeout=self._timeout + 1.0)
        if pending:
            await cancel_and_wait(pending)
        elif not task.cancelled():
            task.exception()  # retrieved; _run never raises

    async def sync(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything auth published before this call is applied here.

        True once it is; False when the list cannot be trusted (every token is refused
        meanwhile) or the answer did not come within ``timeout_s``. For tests and tools:
        verifying never waits for this.
        """
        if self._task is None or self._task.done():
            return False
        loop = asyncio.get_running_loop()
        found: asyncio.Future[bool] = loop.create_future()
        with self._waiters_lock:
            self._waiters.append((loop, found))
        try:
            return await asyncio.wait_for(asyncio.shield(found), timeout_s)
        except TimeoutError:
            return False

    # --- the loop ---------------------------------------------------------------------

    def _distrust(self, reason: str, error: BaseException | None = None) -> None:
        if self._trusted:
            log.warning(
                "security.revocations_untrusted",
                reason=reason,
                error=type(error).__name__ if error is not None else None,
            )
        self._trusted = False
        self._reason = reason

    def _trust(self) -> None:
        if not self._trusted:
            log.info("security.revocations_current", seq=self._seq, entries=len(self))
        self._trusted = True
        self._reason = ""

    def _take_waiters(self) -> list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]]:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        return waiters

    @staticmethod
    def _answer(
        waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]], value: bool
    ) -> None:
        for loop, waiter in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, waiter, value)

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._session(stop)
            except Exception as exc:  # noqa: BLE001  # never let the loop die: reconnect
                self._failures += 1
                self._distrust("redis unreachable", exc)
                log.warning(
                    "security.revocations_link_lost",
                    error=type(exc).__name__,
                    attempt=self._failures,
                )
            finally:
                self._answer(self._take_waiters(), False)
                if self._settled is not None:
                    self._settled.set()
            if stop.is_set():
                break
            delay = 0.0  # the first retry is immediate (a killed connection)
            if self._failures > 1:
                delay = min(self._retry_delay * 2 ** (self._failures - 2), self._max_retry_delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        self._trusted, self._reason = False, "stopped"  # not an outage: no warning

    def _connect(self) -> AbstractConnection:
        conn: AbstractConnection = self._connection_class(**self._connection_kwargs)
        return conn

    async def _session(self, stop: asyncio.Event) -> None:
        sub, cmd = self._connect(), self._connect()
        try:
            await sub.connect()  # type: ignore[no-untyped-call]
            await cmd.connect()  # type: ignore[no-untyped-call]
            await self._send(sub, "SUBSCRIBE", REVOCATIONS_CHANNEL)
            reply = await sub.read_response(disable_decoding=True, timeout=self._timeout)
            if not (isinstance(reply, list) and reply and reply[0] == b"subscribe"):
                raise RedisConnectionError("SUBSCRIBE was not confirmed")
            await self._load(cmd)  # subscribed first: nothing published after it is missed
            self.connections += 1
            if self._failures:
                log.info("security.revocations_link_up", after_attempts=self._failures)
            self._failures = 0
            if self._settled is not None:
                self._settled.set()
            loop = asyncio.get_running_loop()
            next_check = loop.time() + self._interval
            while not stop.is_set():
                wait = min(POLL_S, max(0.01, next_check - loop.time()))
                reply = await sub.read_response(
                    disable_decoding=True, timeout=wait, disconnect_on_error=False
                )
                if reply is not None:
                    await self._handle(reply, cmd)
                self._prune()
                if self._waiters or loop.time() >= next_check:
                    await self._check(sub, cmd)
                    next_check = loop.time() + self._interval
        finally:
            for conn in (sub, cmd):
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)

    async def _send(self, conn: AbstractConnection, *args: str | bytes | int) -> None:
        # Checked first: redis-py would silently open a fresh connection otherwise (a
        # subscription without its SUBSCRIBE).
        if not conn.is_connected:
            raise RedisConnectionError("connection closed")
        await conn.send_command(*args, check_health=False)

    async def _command(self, conn: AbstractConnection, *args: str | bytes | int) -> Any:
        await self._send(conn, *args)
        reply = await conn.read_response(disable_decoding=True, timeout=self._timeout)
        if reply is None:
            raise RedisTimeoutError(f"no answer to {args[0]!s}")
        return reply

    async def _load(self, cmd: AbstractConnection) -> None:
        """Read marker, sequence and the live set atomically and take them as the state."""
        if not cmd.is_connected:
            raise RedisConnectionError("connection closed")
        since = f"({int(self._clock())}"
        await cmd.send_packed_command(
            cmd.pack_commands(
                [
                    ("MULTI",),
                    ("GET", REVOCATIONS_LOADED),
                    ("GET", REVOCATIONS_SEQ),
                    ("ZRANGEBYSCORE", REVOCATIONS_LIVE, since, "+inf", "WITHSCORES"),
                    ("EXEC",),
                ]
            ),
            check_health=False,
        )
        reply: Any = None
        for _ in range(5):  # OK, QUEUED x3, then the results
            reply = await cmd.read_response(disable_decoding=True, timeout=self._timeout)
            if reply is None:
                raise RedisTimeoutError("no answer to the snapshot")
        if not isinstance(reply, list) or len(reply) != 3:
            raise RedisConnectionError("the snapshot transaction was aborted")
        marker, seq, flat = reply
        self.add((flat[i].decode(), int(float(flat[i + 1]))) for i in range(0, len(flat) - 1, 2))
        self._epoch = marker.decode() if marker is not None else None
        self._seq = int(seq) if seq is not None else 0
        self.snapshots += 1
        if self._epoch is None:
            self._distrust("not loaded: auth has not written the list back yet")
        else:
            self._trust()

    async def _reload(self, cmd: AbstractConnection, reason: str) -> None:
        self._distrust(reason)  # refused until the snapshot is in
        log.info("security.revocations_reload", reason=reason)
        await self._load(cmd)

    async def _handle(self, reply: Any, cmd: AbstractConnection) -> None:
        if not isinstance(reply, list) or len(reply) < 3 or reply[0] != b"message":
            return  # a stray PONG of a barrier given up on, or a confirmation
        try:
            push = _decode_push(reply[2])
        except (msgspec.DecodeError, msgspec.ValidationError):
            await self._reload(cmd, "unreadable push")
            return
        self.add(push.entries)  # whatever else happens: they are revocations
        if push.epoch is None:
            self._epoch = None
            self._distrust("not loaded: auth has not written the list back yet")
        elif push.epoch != self._epoch:
            await self._reload(cmd, "reloaded by auth" if push.reloaded else "new epoch")
        elif push.seq == self._seq + 1:
            self._seq = push.seq
            self.applied += 1
        elif push.seq > self._seq:
            await self._reload(cmd, "missed push")
        # else: already in the snapshot

    async def _check(self, sub: AbstractConnection, cmd: AbstractConnection) -> None:
        """Catch what no later push would reveal: a missed last push, an emptied Redis,
        a silently dead subscription."""
        waiters = self._take_waiters()
        self.checks += 1
        try:
            before = self._seq
            marker, seq = await self._command(cmd, "MGET", REVOCATIONS_LOADED, REVOCATIONS_SEQ)
            await self._barrier(sub, cmd)  # every push published before the MGET is in
            epoch = marker.decode() if marker is not None else None
            latest = int(seq) if seq is not None else 0
            if epoch is None:
                self._epoch = None
                self._distrust("not loaded: auth has not written the list back yet")
            elif epoch != self._epoch:
                await self._reload(cmd, "new epoch")
            elif latest > self._seq:
                await self._reload(cmd, "missed push")
            elif latest < before:  # the counter went back without a new epoch
                await self._reload(cmd, "sequence reset")
        finally:
            self._answer(waiters, self._trusted)

    async def _barrier(self, sub: AbstractConnection, cmd: AbstractConnection) -> None:
        self._pings += 1
        token = f"revocations-{self._pings}".encode()
        await self._send(sub, "PING", token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while (remaining := deadline - loop.time()) > 0:
            reply = await sub.read_response(
                disable_decoding=True, timeout=remaining, disconnect_on_error=False
            )
            if isinstance(reply, list) and reply[:2] == [b"pong", token]:
                return
            if reply is not None:
                await self._handle(reply, cmd)
        raise RedisTimeoutError("the subscription did not answer PING")


_decode_push = msgspec.json.Decoder(RevocationPush).decode


def _resolve(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)


class TokenVerifier:
    """Turns a bearer token into a :class:`Principal` or raises :class:`TokenRejected`."""

    def __init__(
        self,
        keys: KeySet,
        revocations: RevocationList,
        issuer: str,
        *,
        audience: str = DEFAULT_AUDIENCE,
        leeway: float = 5.0,
        cache_size: int = 4096,
    ) -> None:
        self._keys = keys
        self.revocations = revocations
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        # Signature checks cost ~50 µs; a verified token is remembered until it expires.
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise TokenRejected(TokenReason.MISSING)
        principal = self._verified.get(token)
        if principal is None or principal.expires_at + self._leeway <= time.time():
            principal = await self._verify_signed(token)
            self._remember(token, principal)
        try:
            revoked = await self.revocations.is_revoked(principal)
        except Exception as exc:
            # Whatever stopped the check (the list not trusted: Redis down or emptied, a
            # missed push being reloaded), the token is refused: fail closed with a 401,
            # never a 500.
            log.warning("security.revocation_unavailable", error=type(exc).__name__)
            raise TokenRejected(TokenReason.UNVERIFIABLE) from exc
        if revoked:
            raise TokenRejected(TokenReason.REVOKED)
        return principal

    def _remember(self, token: str, principal: Principal) -> None:
        self._verified[token] = principal
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)

    async def _verify_signed(self, token: str) -> Principal:
        claims = await self.claims(token, "access")
        email, sid = claims.get("email"), claims.get("sid")
        return Principal(
            user_id=claims["sub"],
            jti=claims["jti"],
            expires_at=int(claims["exp"]),
            email=email if isinstance(email, str) else None,
            session_id=sid if isinstance(sid, str) and sid else None,
        )

    async def claims(self, token: str, token_type: str) -> dict[str, Any]:
        """The claims of a token of ``token_type`` whose signature, ``iss``, ``aud`` and
        ``exp`` hold.

        Revocation is not checked here; ``sub`` is a UUID and ``jti`` a non-empty string.
        """
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenRejected(TokenReason.MALFORMED)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenRejected(TokenReason.MALFORMED) from exc
        if header.get("alg") != ALGORITHM:
            raise TokenRejected(TokenReason.UNSUPPORTED)
        if any(h in header for h in ("jku", "x5u", "jwk")):
            raise TokenRejected(TokenReason.UNSUPPORTED)  # keys come only from our JWKS
        kid = header.get("kid")
        key = await self._keys.get(kid) if isinstance(kid, str) and 0 < len(kid) <= 256 else None
        if key is None:
            raise TokenRejected(TokenReason.INVALID)
        claims = self._decode(token, key)
        if claims.get("type") != token_type:
            raise TokenRejected(TokenReason.INVALID)
        sub, jti = claims.get("sub"), claims.get("jti")
        if not isinstance(sub, str) or not _is_uuid(sub) or not isinstance(jti, str) or not jti:
            raise TokenRejected(TokenReason.INVALID)
        return claims

    def _decode(self, token: str, key: RSAPublicKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected(TokenReason.EXPIRED) from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected(TokenReason.BAD_SIGNATURE) from exc
        except jwt.DecodeError as exc:
            raise TokenRejected(TokenReason.MALFORMED) from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(TokenReason.INVALID) from exc


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]
