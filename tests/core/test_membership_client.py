"""How the other services learn membership: the Redis entry first, the user service on a
miss. Against a real ``wealist serve user`` process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.plugins.harness import INTERNAL_KEY, TokenIssuer
from tests.user.support import create_workspace, invite, member_id_of, sign_up
from wealist.contracts.membership import membership_key
from wealist.core.errors import ServiceUnavailable, ValidationFailed
from wealist.core.internal import InternalClient
from wealist.core.membership import MembershipClient

pytestmark = pytest.mark.slow


async def test_cache_first_then_the_user_service(
    service_process: Callable[..., Any], redis: Redis, issuer: TokenIssuer
) -> None:
    user_service = await service_process("user")
    async with httpx.AsyncClient(base_url=user_service.url, timeout=10) as http:
        owner = await sign_up(http, issuer, "owner")
        member = await sign_up(http, issuer, "member")
        workspace = await create_workspace(http, owner, "Cached")
        assert (await invite(http, owner, workspace, member)).status_code == 201
        client = MembershipClient(redis, InternalClient(http, INTERNAL_KEY), user_service.url)

        key = membership_key(workspace, member.user_id)
        await redis.delete(key)
        answer = await client.get(workspace, member.user_id)  # a miss: asks, which fills
        assert (answer.is_member, answer.role) == (True, "MEMBER")
        assert await redis.get(key) is not None

        member_id = await member_id_of(http, owner, workspace, member)
        removed = await http.delete(
            f"/api/workspaces/{workspace}/members/{member_id}", headers=owner.headers
        )
        assert removed.status_code == 200
        assert (await client.get(workspace, member.user_id)).is_member is False

        with pytest.raises(ValidationFailed):
            await client.get("not-a-uuid", member.user_id)

        user_service.stop()  # from now on only the cache can answer
        owner_answer = await client.get(workspace, owner.user_id)
        assert (owner_answer.is_member, owner_answer.role) == (True, "OWNER")
        await redis.delete(key)
        with pytest.raises(ServiceUnavailable):
            await client.get(workspace, member.user_id)
