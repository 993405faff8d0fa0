"""``wealist serve all``: every service on one port finds the others there, so membership
checks and outbox events work without any address configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.board.support import unwrap
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import TokenIssuer
from tests.user.support import build_world

pytestmark = pytest.mark.slow


async def test_services_in_one_process_reach_each_other(
    service_process: Callable[..., Any], issuer: TokenIssuer
) -> None:
    stack = await service_process("all", env={"WEALIST_OUTBOX_RELAY": "true"})
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        world = await build_world(http, issuer)
        owner = world.owner.headers
        project = unwrap(
            await http.post(
                "/api/projects", json={"workspaceId": world.a, "name": "One port"}, headers=owner
            ),
            201,
        )["projectId"]
        made = unwrap(
            await http.post(
                "/api/boards",
                json={"projectId": project, "title": "Routed", "assigneeId": world.admin.user_id},
                headers=owner,
            ),
            201,
        )

        async def notified() -> list[Any]:
            found = await http.get(
                "/api/notifications",
                headers={**world.admin.headers, "X-Workspace-Id": world.a},
            )
            assert found.status_code == 200, found.text
            return [n for n in found.json()["notifications"] if n["resourceId"] == made["boardId"]]

        shown = await eventually(notified, timeout=20)
    assert [n["type"] for n in shown] == ["BOARD_ASSIGNED"]
