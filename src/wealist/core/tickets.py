"""Socket tickets (reliability T30): a WebSocket or SSE URL can carry a short-lived,
single-use ``?ticket=`` instead of the access token itself.

``POST /api/auth/socket-ticket`` (the access token in the Authorization header) stores
the token under a hash of a random ticket in the shared Redis for a few seconds; the
service the socket opens on redeems it with GETDEL - a second use, or a copy from a log
or a browser history, finds nothing - and verifies the token it gets as if it had come in
a header, so expiry and revocation still apply. ``?token=`` (the original frontend's way)
stays accepted unless ``socket_query_token`` is off.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wealist.core.errors import TokenReason, TokenRejected

__all__ = ("SocketTickets", "socket_credential")

_PREFIX = "socket-ticket:"
_LONGEST = 128  # issued tickets are 43 characters


class SocketTickets:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def issue(self, token: str, ttl_s: float) -> str:
        ticket = secrets.token_urlsafe(32)
        await self._redis.set(_key(ticket), token, px=max(1, int(ttl_s * 1000)))
        return ticket

    async def redeem(self, ticket: str) -> str:
        """The access token the ticket stands for, once; refused if unknown, used or late."""
        if len(ticket) > _LONGEST:
            raise TokenRejected(TokenReason.INVALID)
        try:
            found = await self._redis.getdel(_key(ticket))
        except RedisError:  # cannot tell: fail closed, like a revocation check
            raise TokenRejected(TokenReason.UNVERIFIABLE) from None
        if found is None:
            raise TokenRejected(TokenReason.INVALID)
        return found.decode() if isinstance(found, bytes) else str(found)


def _key(ticket: str) -> str:
    return _PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


async def socket_credential(
    query: Mapping[str, str], tickets: SocketTickets, *, allow_token: bool
) -> str | None:
    """The access token a socket or stream URL stands for: its ``ticket``'s (redeemed),
    else its ``token`` where that is allowed; None when it has neither."""
    ticket = query.get("ticket")
    if ticket:
        return await tickets.redeem(ticket)
    return query.get("token") if allow_token else None
