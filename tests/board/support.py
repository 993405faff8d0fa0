"""Helpers of the board tests: a project with people in every role, boards, uploads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.plugins.harness import TokenIssuer
from tests.user.support import Actor, World, invite, sign_up

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 120


def unwrap(response: Any, status: int = 200) -> Any:
    """The ``data`` of a board reply (``{data, requestId}``) after checking its status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"data", "requestId"}, body
    assert body["requestId"] == response.headers["x-request-id"]
    return body["data"]


@dataclass
class Scene:
    """Workspace A's project: its OWNER (A's owner), an ADMIN (A's admin), a MEMBER (a
    fresh member of A); A's member stays outside the project. A board by the owner with A's
    member as participant, a comment by the owner and a custom stage option."""

    world: World
    project: str
    board: str
    comment: str
    option: str
    project_member: Actor

    @property
    def project_owner(self) -> Actor:
        return self.world.owner

    @property
    def project_admin(self) -> Actor:
        return self.world.admin

    @property
    def ws_member(self) -> Actor:
        return self.world.member

    def actors(self) -> dict[str, Actor]:
        found = self.world.actors()
        return {
            "project_owner": self.project_owner,
            "project_admin": self.project_admin,
            "project_member": self.project_member,
            "ws_member": self.ws_member,
            "outsider": found["outsider"],
            "other_admin": found["other_admin"],
            "anonymous": found["anonymous"],
        }


async def join(board: Any, project: str, who: Actor, by: Actor, role: str = "MEMBER") -> None:
    """``who`` asks to join ``project``, ``by`` approves, and sets their role."""
    asked = unwrap(
        await board.post("/api/join-requests", json={"projectId": project}, headers=who.headers),
        201,
    )
    unwrap(
        await board.put(
            f"/api/join-requests/{asked['requestId']}",
            json={"status": "APPROVED"},
            headers=by.headers,
        )
    )
    if role != "MEMBER":
        unwrap(
            await board.put(
                f"/api/projects/{project}/members/{who.user_id}/role",
                json={"roleName": role},
                headers=by.headers,
            )
        )


async def new_member(
    users: httpx.AsyncClient, issuer: TokenIssuer, world: World, tag: str
) -> Actor:
    """A fresh user invited into workspace A."""
    actor = await sign_up(users, issuer, tag)
    response = await invite(users, world.owner, world.a, actor)
    assert response.status_code == 201, response.text
    return actor


async def build_scene(
    board: Any, users: httpx.AsyncClient, issuer: TokenIssuer, world: World
) -> Scene:
    owner = world.owner
    project = unwrap(
        await board.post(
            "/api/projects",
            json={"workspaceId": world.a, "name": "Alpha plans"},
            headers=owner.headers,
        ),
        201,
    )["projectId"]
    member = await new_member(users, issuer, world, "pmember")
    await join(board, project, world.admin, owner, "ADMIN")
    await join(board, project, member, owner)
    card = unwrap(
        await board.post(
            "/api/boards",
            json={
                "projectId": project,
                "title": "Alpha card",
                "customFields": {"stage": "pending"},
                "participants": [world.member.user_id],
            },
            headers=owner.headers,
        ),
        201,
    )["boardId"]
    comment = unwrap(
        await board.post(
            "/api/comments", json={"boardId": card, "content": "first!"}, headers=owner.headers
        ),
        201,
    )["commentId"]
    option = unwrap(
        await board.post(
            "/api/field-options",
            json={
                "projectId": project,
                "fieldType": "stage",
                "value": "blocked",
                "label": "Blocked",
                "color": "#123456",
                "displayOrder": 6,
            },
            headers=owner.headers,
        ),
        201,
    )["optionId"]
    return Scene(world, project, card, comment, option, member)


async def upload(
    board: Any, who: Actor, workspace: str, entity: str = "BOARD", body: bytes = PNG, **over: Any
) -> dict[str, Any]:
    """Presign and PUT a file as a browser does; returns the presign reply."""
    asked = {
        "entityType": entity,
        "workspaceId": workspace,
        "fileName": "shot.png",
        "fileSize": len(body),
        "contentType": "image/png",
        **over,
    }
    presigned: dict[str, Any] = unwrap(
        await board.post("/api/attachments/presigned-url", json=asked, headers=who.headers)
    )
    async with httpx.AsyncClient() as http:
        put = await http.put(
            presigned["uploadUrl"], content=body, headers={"Content-Type": asked["contentType"]}
        )
    assert put.status_code in (200, 204), put.text
    return presigned
