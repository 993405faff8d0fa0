"""Socket tickets (core.tickets, reliability T30) against a real Redis: one use each,
short-lived, and refused (fail closed) when Redis cannot answer."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from wealist.core.errors import TokenReason, TokenRejected
from wealist.core.tickets import SocketTickets, socket_credential


async def test_a_ticket_stands_for_its_token_once(redis: Redis) -> None:
    tickets = SocketTickets(redis)
    ticket = await tickets.issue("the-access-token", 30)
    assert "the-access-token" not in ticket and len(ticket) >= 40
    assert await tickets.redeem(ticket) == "the-access-token"
    with pytest.raises(TokenRejected) as again:
        await tickets.redeem(ticket)
    assert again.value.reason is TokenReason.INVALID


async def test_late_unknown_and_oversized_tickets_are_refused(redis: Redis) -> None:
    tickets = SocketTickets(redis)
    late = await tickets.issue("t", 0.05)
    await asyncio.sleep(0.2)
    for ticket in (late, "never-issued", "x" * 129):
        with pytest.raises(TokenRejected) as refused:
            await tickets.redeem(ticket)
        assert refused.value.reason is TokenReason.INVALID, ticket


async def test_without_redis_a_ticket_is_refused_not_trusted() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        with pytest.raises(TokenRejected) as refused:
            await SocketTickets(unreachable).redeem("anything")
        assert refused.value.reason is TokenReason.UNVERIFIABLE
    finally:
        await unreachable.aclose()


async def test_the_credential_of_a_url(redis: Redis) -> None:
    tickets = SocketTickets(redis)
    ticket = await tickets.issue("from-ticket", 30)
    both = {"ticket": ticket, "token": "from-query"}
    assert await socket_credential(both, tickets, allow_token=False) == "from-ticket"
    assert await socket_credential({"token": "from-query"}, tickets, allow_token=True) == (
        "from-query"
    )
    assert await socket_credential({"token": "from-query"}, tickets, allow_token=False) is None
    assert await socket_credential({}, tickets, allow_token=True) is None
