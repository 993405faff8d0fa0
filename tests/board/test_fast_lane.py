"""The fast lane (core.fastlane) answers exactly as the framework's route would.

A request with an ``Origin`` header is declined by the lane (CORS is the framework's), so
each case is asked twice, once of each path, and the answers compared: status, body (the
request id aside), headers that matter. Then what only the lane does: metrics under the
same route template, a too-large body, a body the framework must parse after all.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import structlog.testing

from tests.board.support import build_scene
from tests.plugins.harness import TokenIssuer
from tests.user.support import World

ORIGIN = {"Origin": "http://localhost:3000"}  # in the test settings' CORS list


def comparable(response: Any) -> tuple[int, Any]:
    body = response.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "requestId"}
    return response.status_code, body


async def both(client: Any, path: str, headers: dict[str, str] | None = None) -> list[Any]:
    fast = await client.get(path, headers=headers or {})
    framework = await client.get(path, headers={**(headers or {}), **ORIGIN})
    assert "access-control-allow-origin" in framework.headers  # the framework answered it
    assert "access-control-allow-origin" not in fast.headers  # the lane answered it
    for r in (fast, framework):
        assert len(r.headers["x-request-id"]) == 32
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-type"].startswith("application/json")
    assert comparable(fast) == comparable(framework)
    return [fast, framework]


async def test_board_list_answers_alike(
    board: Any, users: httpx.AsyncClient, issuer: TokenIssuer, world: World
) -> None:
    scene = await build_scene(board, users, issuer, world)
    path = f"/api/boards/project/{scene.project}"
    fast, framework = await both(board, path, scene.project_owner.headers)
    assert fast.status_code == 200 and fast.json()["data"][0]["boardId"] == scene.board
    assert fast.json()["requestId"] == fast.headers["x-request-id"]
    assert fast.headers["x-event-seq"] == framework.headers["x-event-seq"]
    # refusals, in the board envelope
    for headers in (scene.world.actors()["outsider"].headers, {}, {"Authorization": "Bearer x"}):
        await both(board, path, headers)
    await both(board, "/api/boards/project/not-a-uuid", scene.project_owner.headers)
    await both(board, f"/api/boards/project/{uuid.uuid4()}", scene.project_owner.headers)
    # a filter is parsed by the framework's route, with the same answer
    query = path + "?customFields=" + '{"stage":"pending"}'
    filtered = await board.get(query, headers=scene.project_owner.headers)
    assert [b["boardId"] for b in filtered.json()["data"]] == [scene.board]
    # one metric series per route template, whichever path answered
    metrics = (await board.get("/metrics")).text
    series = [
        line
        for line in metrics.splitlines()
        if line.startswith("board_service_http_requests_total{")
        and 'endpoint="/api/boards/project/{projectId}"' in line
    ]
    assert series and all('method="GET"' in line for line in series)
    assert sum(float(line.rsplit(" ", 1)[1]) for line in series) >= 12


async def test_my_workspaces_answer_alike(users: httpx.AsyncClient, world: World) -> None:
    fast, _ = await both(users, "/api/workspaces/all", world.owner.headers)
    assert world.a in [w["workspaceId"] for w in fast.json()]
    await both(users, "/api/workspaces/all")


async def test_validate_answers_alike_and_leaves_odd_bodies_to_the_framework(
    app_client: Any, issuer: TokenIssuer
) -> None:
    async with app_client("auth") as auth:
        token = issuer.token()
        for body in (
            {"token": token},
            {"token": "not.a.token"},
        ):
            with structlog.testing.capture_logs() as logs:
                fast = await auth.post("/api/auth/validate", json=body)
            (line,) = [e for e in logs if e["event"] == "http.request_completed"]
            assert line["db_calls"] == 0  # no query: a token check is in-process
            framework = await auth.post("/api/auth/validate", json=body, headers=ORIGIN)
            assert comparable(fast) == comparable(framework)
        for raw in (b'{"token": 1}', b'{"token": "a", "token": "b"}', b"[" * 100, b"{"):
            r = await auth.post(
                "/api/auth/validate", content=raw, headers={"content-type": "application/json"}
            )
            assert r.status_code == 400, r.text
            assert set(r.json()) >= {"code", "message"}  # the auth envelope
        too_large = b'{"token": "' + b"a" * (2 * 1024 * 1024) + b'"}'
        r = await auth.post(
            "/api/auth/validate", content=too_large, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
