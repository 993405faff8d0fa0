"""Every user-service route crossed with {owner, admin, member, outsider, admin of another
workspace, anonymous}: each cell's status is asserted, and nobody outside workspace A sees
its data.

Policy: a caller who is not a member of a workspace gets 404 for it (as if it did not
exist); a member whose role does not allow the action gets 403; internal routes answer
401 to every token. A route the service serves without a row here fails
``test_every_route_has_a_row``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.authz import Case, Setup, at, check_case, check_routes_covered
from tests.plugins.harness import TokenIssuer
from tests.user.support import World, build_world, sign_up

Client = AsyncTestClient[Litestar]
ACTORS = ("owner", "admin", "member", "outsider", "other_admin", "anonymous")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


async def a_guest(clients: Any, world: World) -> Setup:
    client, issuer = clients
    guest = await sign_up(client, issuer, "guest")
    return Setup({"email": guest.email})


async def a_pending_request(clients: Any, world: World) -> Setup:
    client, issuer = clients
    joiner = await sign_up(client, issuer, "joiner")
    asked = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": world.a}, headers=joiner.headers
    )
    assert asked.status_code == 201, asked.text
    return Setup({"request": asked.json()["joinRequestId"], "joiner": joiner.user_id})


async def member_ids(clients: Any, world: World) -> Setup:
    client, _ = clients
    listed = await client.get(f"/api/workspaces/{world.a}/members", headers=world.owner.headers)
    by_user = {m["userId"]: m["workspaceMemberId"] for m in listed.json()}
    return Setup({"member": by_user[world.member.user_id]})


async def an_uploaded_image(clients: Any, world: World) -> Setup:
    client, _ = clients
    presigned = await client.post(
        "/api/profiles/me/image/presigned-url",
        json={"fileName": "me.png", "contentType": "image/png", "fileSize": len(PNG)},
        headers=world.owner.headers,
    )
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    async with httpx.AsyncClient() as http:
        put = await http.put(body["uploadUrl"], content=PNG, headers={"Content-Type": "image/png"})
    assert put.status_code == 200, put.text
    return Setup({"key": body["fileKey"], "attachment": body["attachmentId"]})


INTERNAL = (401,) * 6
SIGNED_IN = (200, 200, 200, 200, 200, 401)
READ_A = (200, 200, 200, 404, 404, 401)
MANAGE_A = (200, 200, 403, 404, 404, 401)
WS = "/api/workspaces/{workspaceId}"

CASES = [
    Case(
        "POST",
        "/api/internal/oauth/login",
        INTERNAL,
        at(
            "/api/internal/oauth/login",
            {"email": "x@example.com", "name": "", "provider": "google"},
        ),
    ),
    Case(
        "GET",
        "/api/internal/users/{userId}/exists",
        INTERNAL,
        at("/api/internal/users/{owner}/exists"),
    ),
    Case(
        "GET",
        "/api/internal/workspaces/{workspaceId}/members/{userId}",
        INTERNAL,
        at("/api/internal/workspaces/{a}/members/{owner}"),
    ),
    Case(
        "POST",
        "/api/internal/workspaces/{workspaceId}/directory",
        INTERNAL,
        at("/api/internal/workspaces/{a}/directory", lambda v: {"userIds": [v["owner"]]}),
    ),
    Case("POST", "/api/users", INTERNAL, at("/api/users", {"email": "new-user@example.com"})),
    Case("PUT", "/api/users/{userId}/restore", INTERNAL, at("/api/users/{owner}/restore")),
    Case("GET", "/api/users/me", SIGNED_IN, at("/api/users/me")),
    Case(
        "DELETE", "/api/users/me", (409, 200, 200, 200, 200, 401), at("/api/users/me"), fresh=True
    ),
    Case("GET", "/api/users/{userId}", READ_A, at("/api/users/{member_user}")),
    Case(
        "PUT",
        "/api/users/{userId}",
        (403, 403, 200, 403, 403, 401),
        at("/api/users/{member_user}", {"name": "Renamed"}),
    ),
    Case(
        "POST",
        "/api/workspaces/create",
        (201, 201, 201, 201, 201, 401),
        at("/api/workspaces/create", {"workspaceName": "Another"}),
    ),
    Case("GET", "/api/workspaces/all", SIGNED_IN, at("/api/workspaces/all")),
    Case(
        "GET",
        "/api/workspaces/public/{workspaceName}",
        SIGNED_IN,
        at("/api/workspaces/public/no-such-name-anywhere"),
    ),
    Case("GET", WS, READ_A, at("/api/workspaces/{a}")),
    Case(
        "PUT",
        "/api/workspaces/ids/{workspaceId}",
        MANAGE_A,
        at("/api/workspaces/ids/{a}", {"workspaceDescription": "changed"}),
    ),
    Case("DELETE", WS, (200, 403, 403, 404, 404, 401), at("/api/workspaces/{a}"), fresh=True),
    Case(
        "POST",
        "/api/workspaces/default",
        READ_A,
        at("/api/workspaces/default", lambda v: {"workspaceId": v["a"]}),
    ),
    Case("GET", WS + "/settings", READ_A, at("/api/workspaces/{a}/settings")),
    Case(
        "PUT",
        WS + "/settings",
        MANAGE_A,
        at("/api/workspaces/{a}/settings", {"requiresApproval": True}),
    ),
    Case(
        "GET",
        WS + "/validate-member/{userId}",
        READ_A,
        at("/api/workspaces/{a}/validate-member/{member_user}"),
    ),
    Case("GET", WS + "/members", READ_A, at("/api/workspaces/{a}/members")),
    Case(
        "POST",
        WS + "/members/invite",
        (201, 201, 403, 404, 404, 401),
        at("/api/workspaces/{a}/members/invite", lambda v: {"email": v["email"]}),
        prepare=a_guest,
        fresh=True,
    ),
    Case(
        "PUT",
        WS + "/members/{memberId}/role",
        MANAGE_A,
        at("/api/workspaces/{a}/members/{member}/role", {"roleName": "MEMBER"}),
        prepare=member_ids,
    ),
    Case(
        "DELETE",
        WS + "/members/{memberId}",
        (200, 200, 200, 404, 404, 401),
        at("/api/workspaces/{a}/members/{member}"),
        prepare=member_ids,
        fresh=True,
    ),
    Case(
        "POST",
        "/api/workspaces/join-requests",
        (409, 409, 409, 201, 201, 401),
        at("/api/workspaces/join-requests", lambda v: {"workspaceId": v["a"]}),
        discloses=True,
    ),
    Case(
        "GET",
        WS + "/joinRequests",
        MANAGE_A,
        at("/api/workspaces/{a}/joinRequests"),
        prepare=a_pending_request,
    ),
    Case(
        "GET",
        WS + "/pendingMembers",
        MANAGE_A,
        at("/api/workspaces/{a}/pendingMembers"),
        prepare=a_pending_request,
    ),
    Case(
        "PUT",
        WS + "/joinRequests/{requestId}",
        MANAGE_A,
        at("/api/workspaces/{a}/joinRequests/{request}", {"status": "APPROVED"}),
        prepare=a_pending_request,
        fresh=True,
    ),
    Case(
        "POST",
        WS + "/members/{userId}/approve",
        MANAGE_A,
        at("/api/workspaces/{a}/members/{joiner}/approve"),
        prepare=a_pending_request,
        fresh=True,
    ),
    Case(
        "POST",
        WS + "/members/{userId}/reject",
        MANAGE_A,
        at("/api/workspaces/{a}/members/{joiner}/reject"),
        prepare=a_pending_request,
        fresh=True,
    ),
    Case(
        "POST",
        "/api/profiles",
        (409, 409, 409, 404, 404, 401),
        at("/api/profiles", lambda v: {"workspaceId": v["a"], "nickName": "Nick"}),
    ),
    Case("GET", "/api/profiles/me", READ_A, at("/api/profiles/me", X_Workspace_Id="{a}")),
    Case(
        "PUT",
        "/api/profiles/me",
        READ_A,
        at("/api/profiles/me", {"nickName": "Nick"}, X_Workspace_Id="{a}"),
    ),
    Case("GET", "/api/profiles/all/me", SIGNED_IN, at("/api/profiles/all/me")),
    Case(
        "GET",
        "/api/profiles/workspace/{workspaceId}/user/{userId}",
        READ_A,
        at("/api/profiles/workspace/{a}/user/{member_user}"),
    ),
    Case(
        "DELETE", "/api/profiles/workspace/{workspaceId}", READ_A, at("/api/profiles/workspace/{a}")
    ),
    Case(
        "POST",
        "/api/profiles/me/image/presigned-url",
        SIGNED_IN,
        at(
            "/api/profiles/me/image/presigned-url",
            {"fileName": "a.png", "contentType": "image/png", "fileSize": 10},
        ),
    ),
    Case(
        "POST",
        "/api/profiles/me/image/attachment",
        (201, 404, 404, 404, 404, 401),
        at(
            "/api/profiles/me/image/attachment",
            lambda v: {
                "fileKey": v["key"],
                "fileName": "me.png",
                "contentType": "image/png",
                "fileSize": len(PNG),
            },
        ),
        prepare=an_uploaded_image,
    ),
    Case(
        "PUT",
        "/api/profiles/me/image",
        (200, 403, 403, 404, 404, 401),
        at(
            "/api/profiles/me/image",
            lambda v: {"attachmentId": v["attachment"]},
            X_Workspace_Id="{a}",
        ),
        prepare=an_uploaded_image,
    ),
]


@pytest.fixture
async def matrix_client(app_client: Callable[..., Any], s3_server: Any) -> AsyncIterator[Client]:
    async with app_client("user", **s3_server.settings()) as opened:
        yield opened


async def test_every_route_has_a_row(matrix_client: Client) -> None:
    check_routes_covered(matrix_client.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_matrix(matrix_client: Client, issuer: TokenIssuer, case: Case) -> None:
    await check_case(
        matrix_client,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(matrix_client, issuer),
        clients=(matrix_client, issuer),
    )
