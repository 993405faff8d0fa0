"""Racing membership changes against a real ``wealist serve user`` process (the in-process
test client runs one request at a time, so it cannot race)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.plugins.harness import TokenIssuer
from tests.user.support import Db, create_workspace, invite, sign_up

pytestmark = pytest.mark.slow


@pytest.fixture
async def http(service_process: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    proc = await service_process("user", env={"WEALIST_USER_DB_POOL_MAX": "10"})
    async with httpx.AsyncClient(base_url=proc.url, timeout=30) as client:
        yield client


async def test_racing_invites_and_joins_make_one_membership(
    http: httpx.AsyncClient, issuer: TokenIssuer, db: Db
) -> None:
    owner = await sign_up(http, issuer, "owner")
    admin = await sign_up(http, issuer, "admin")
    workspace = await create_workspace(http, owner, "Race track", needApproved=False)
    assert (await invite(http, owner, workspace, admin, "ADMIN")).status_code == 201
    for round_ in range(3):
        grace = await sign_up(http, issuer, f"grace{round_}")
        calls = [invite(http, owner, workspace, grace) for _ in range(4)]
        calls += [invite(http, admin, workspace, grace) for _ in range(4)]
        calls += [
            http.post(
                "/api/workspaces/join-requests",
                json={"workspaceId": workspace},
                headers=grace.headers,
            )
            for _ in range(4)
        ]
        responses = await asyncio.gather(*calls)
        statuses = sorted(r.status_code for r in responses)
        # Exactly one invite or admitted join made the membership; the rest conflict.
        assert statuses == [201] + [409] * 11, [r.text for r in responses]
        cur = await db.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_active) FROM workspace_members"
            " WHERE workspace_id = %s AND user_id = %s",
            (workspace, grace.user_id),
        )
        assert await cur.fetchone() == (1, 1)
        cur = await db.execute(
            "SELECT count(*) FROM user_profiles WHERE workspace_id = %s AND user_id = %s",
            (workspace, grace.user_id),
        )
        assert (await cur.fetchone() or [0])[0] == 1


async def test_racing_promotions_respect_the_admin_cap(
    http: httpx.AsyncClient, issuer: TokenIssuer, db: Db
) -> None:
    owner = await sign_up(http, issuer, "owner")
    workspace = await create_workspace(http, owner, "Cap")
    people = [await sign_up(http, issuer, f"p{n}") for n in range(8)]
    for person in people:
        assert (await invite(http, owner, workspace, person)).status_code == 201
    listed = await http.get(f"/api/workspaces/{workspace}/members", headers=owner.headers)
    member_ids = [m["workspaceMemberId"] for m in listed.json() if m["roleName"] == "MEMBER"]
    responses = await asyncio.gather(
        *(
            http.put(
                f"/api/workspaces/{workspace}/members/{member_id}/role",
                json={"roleName": "ADMIN"},
                headers=owner.headers,
            )
            for member_id in member_ids
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 4 + [409] * 4
    cur = await db.execute(
        "SELECT count(*) FROM workspace_members"
        " WHERE workspace_id = %s AND is_active AND role_name = 'ADMIN'",
        (workspace,),
    )
    assert (await cur.fetchone() or [0])[0] == 4
