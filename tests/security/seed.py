"""A seeded world for system-wide fuzzing: workspace A with a project, a board, a
comment, a custom option, a chat with a message, a drive with a folder, a file and a
share, a call room with its history, and notifications, all reachable by one regular
member of A; plus the ids each service's path parameters should take."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.board.support import build_scene, unwrap
from tests.noti.support import create as create_notification
from tests.plugins.harness import TokenIssuer
from tests.storage.support import Drive, data
from tests.user.support import Actor, World, build_world, member_id_of


@dataclass
class Seed:
    world: World
    member: Actor  # a regular MEMBER of workspace A and of its project: the fuzzing identity
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # service -> name -> id

    def path_values(self, service: str) -> dict[str, str]:
        return {**self.values.get("*", {}), **self.values.get(service, {})}


async def seed_everything(http: httpx.AsyncClient, issuer: TokenIssuer) -> Seed:
    world = await build_world(http, issuer)
    scene = await build_scene(http, http, issuer, world)
    member = scene.project_member
    owner = world.owner
    seed = Seed(world, member)
    seed.values["*"] = {"workspaceId": world.a, "userId": member.user_id}
    seed.values["user"] = {
        "memberId": await member_id_of(http, owner, world.a, member),
        "workspaceName": "Alpha",
    }
    seed.values["board"] = {
        "projectId": scene.project,
        "boardId": scene.board,
        "commentId": scene.comment,
        "optionId": scene.option,
        "memberId": member.user_id,
    }
    seed.values["chat"] = await _chat(http, world, member)
    seed.values["storage"] = await _drive(http, world, member)
    seed.values["video"] = await _room(http, world, member)
    seed.values["noti"] = await _notification(http, world, member)
    seed.values["auth"] = {"provider": "google"}
    seed.values["ops"] = {"service_name": "board-service"}
    return seed


async def _chat(http: httpx.AsyncClient, world: World, member: Actor) -> dict[str, str]:
    created = await http.post(
        "/api/chats",
        json={
            "workspaceId": world.a,
            "chatType": "GROUP",
            "chatName": "Alpha room",
            "participants": [member.user_id],
        },
        headers=world.owner.headers,
    )
    assert created.status_code == 201, created.text
    chat = created.json()["chatId"]
    sent = await http.post(
        f"/api/chats/messages/{chat}", json={"content": "hello"}, headers=member.headers
    )
    assert sent.status_code == 201, sent.text
    return {"chatId": chat, "emoji": "ok"}


async def _drive(http: httpx.AsyncClient, world: World, member: Actor) -> dict[str, str]:
    drive = Drive("s3", http, http)  # type: ignore[arg-type]  # over HTTP, no app context
    owner = world.owner
    project = await drive.project(owner, world.a, "Alpha drive")
    added = await http.post(
        f"/api/storage/projects/{project['id']}/members",
        json={"userId": member.user_id, "permission": "EDITOR"},
        headers=owner.headers,
    )
    assert added.status_code == 201, added.text
    folder = await drive.folder(owner, world.a, "Plans", projectId=project["id"])
    file = await drive.upload(owner, world.a, "plan.txt", b"the plan", folderId=folder["id"])
    share = data(
        await http.post(
            "/api/storage/shares",
            json={
                "entityType": "FILE",
                "entityId": file["id"],
                "isPublic": True,
                "permission": "VIEWER",
            },
            headers=owner.headers,
        ),
        201,
    )
    return {
        "projectId": project["id"],
        "folderId": folder["id"],
        "fileId": file["id"],
        "entityId": file["id"],
        "entityType": "FILE",
        "shareId": share["id"],
        "link": share.get("shareLink") or share.get("link") or "",
        "version": "1",
    }


async def _room(http: httpx.AsyncClient, world: World, member: Actor) -> dict[str, str]:
    made = await http.post(
        "/api/video/rooms",
        json={"name": "Alpha sync", "workspaceId": world.a},
        headers=world.owner.headers,
    )
    assert made.status_code == 201, made.text
    room = made.json()["data"]["id"]
    for who in (world.owner, member):
        joined = await http.post(f"/api/video/rooms/{room}/join", json={}, headers=who.headers)
        assert joined.status_code == 200, joined.text
    saved = await http.post(
        f"/api/video/rooms/{room}/transcript", json={"content": "notes"}, headers=member.headers
    )
    assert saved.status_code == 200, saved.text
    return {"roomId": room, "historyId": saved.json()["data"]["callHistoryId"]}


async def _notification(http: httpx.AsyncClient, world: World, member: Actor) -> dict[str, str]:
    made: dict[str, Any] = await create_notification(http, member.user_id, world.a)
    return {"notificationId": str(made["id"])}


__all__ = ("Seed", "seed_everything", "unwrap")
