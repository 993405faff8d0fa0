"""Seeding: the people, workspaces, projects, tasks and chats a run needs, over the real API.

A *team* is one workspace: its owner and members, a few projects every member has joined
(join request, approved by the owner), tasks assigned round-robin so every member has
some, and one group chat with the whole team. Most people are created the way a Google
sign-in creates them (the user service's internal login) and get tokens from the auth
test-token endpoint; a few per team sign up with a password, so the load can exercise
the real password login. The result is ``seed.json``, which the Locust users read.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ("SeedPlan", "seed")

STAGES = ("pending", "in_progress", "review", "approved")
IMPORTANCE = ("urgent", "high", "normal", "low")


@dataclass(frozen=True)
class SeedPlan:
    teams: int = 4
    team_size: int = 8
    projects_per_team: int = 2
    boards_per_project: int = 16
    password_users_per_team: int = 1

    def __post_init__(self) -> None:
        if self.team_size < 2:
            raise ValueError("a team needs at least two people (notifications go to others)")
        if self.boards_per_project < self.team_size:
            raise ValueError("boards_per_project >= team_size: everyone needs a task")


@dataclass
class Person:
    userId: str  # noqa: N815  # the seed file speaks the API's camelCase
    email: str
    password: str | None = None


@dataclass
class Team:
    workspaceId: str  # noqa: N815
    members: list[Person]
    projects: list[dict[str, Any]] = field(default_factory=list)
    chatId: str = ""  # noqa: N815


class Seeder:
    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], internal_key: str):
        self.client = client
        self.urls = urls
        self.internal_key = internal_key
        self.tokens: dict[str, str] = {}
        self.gate = asyncio.Semaphore(16)
        self.password = secrets.token_urlsafe(18)  # one per run: the seed file is throwaway

    async def call(
        self, method: str, service: str, path: str, *, token: str | None = None, **kw: Any
    ) -> Any:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.gate:
            response = await self.client.request(
                method, self.urls[service] + path, headers=headers, **kw
            )
        if response.status_code >= 300:
            raise RuntimeError(f"seed: {method} {path} -> {response.status_code} {response.text}")
        return response.json() if response.content else None

    async def person(self, tag: str, with_password: bool) -> Person:
        email = f"{tag}-{uuid.uuid4().hex[:10]}@load.test"
        if with_password:
            body = {"email": email, "password": self.password, "name": tag}
            pair = await self.call("POST", "auth", "/api/auth/signup", json=body)
            person = Person(pair["userId"], email, self.password)
            self.tokens[person.userId] = pair["accessToken"]
            return person
        created = await self.call(
            "POST",
            "user",
            "/api/internal/oauth/login",
            json={"email": email, "name": tag, "provider": "google"},
            headers={"x-internal-api-key": self.internal_key},
        )
        person = Person(created["userId"], email)
        pair = await self.call(
            "POST", "auth", "/api/test/token", json={"userId": person.userId, "email": email}
        )
        self.tokens[person.userId] = pair["accessToken"]
        return person

    async def team(self, number: int, plan: SeedPlan) -> Team:
        members = await _all(
            self.person(f"t{number}m{i}", i < plan.password_users_per_team)
            for i in range(plan.team_size)
        )
        owner = self.tokens[members[0].userId]
        workspace = await self.call(
            "POST",
            "user",
            "/api/workspaces/create",
            token=owner,
            json={"workspaceName": f"Load team {number}"},
        )
        team = Team(workspace["workspaceId"], members)
        await _all(
            self.call(
                "POST",
                "user",
                f"/api/workspaces/{team.workspaceId}/members/invite",
                token=owner,
                json={"email": m.email},
            )
            for m in members[1:]
        )
        team.projects = await _all(
            self.project(team, p, plan) for p in range(plan.projects_per_team)
        )
        chat = await self.call(
            "POST",
            "chat",
            "/api/chats",
            token=owner,
            json={
                "workspaceId": team.workspaceId,
                "chatType": "GROUP",
                "chatName": f"Team {number}",
                "participants": [m.userId for m in members[1:]],
            },
        )
        team.chatId = chat["chatId"]
        return team

    async def project(self, team: Team, number: int, plan: SeedPlan) -> dict[str, Any]:
        owner = self.tokens[team.members[0].userId]
        created = await self.call(
            "POST",
            "board",
            "/api/projects",
            token=owner,
            json={"workspaceId": team.workspaceId, "name": f"Project {number}"},
        )
        project_id = created["data"]["projectId"]

        async def join(member: Person) -> None:
            token = self.tokens[member.userId]
            request = await self.call(
                "POST", "board", "/api/join-requests", token=token, json={"projectId": project_id}
            )
            await self.call(
                "PUT",
                "board",
                f"/api/join-requests/{request['data']['requestId']}",
                token=owner,
                json={"status": "APPROVED"},
            )

        await _all(join(m) for m in team.members[1:])

        async def board(index: int) -> dict[str, str]:
            assignee = team.members[index % len(team.members)]
            follower = team.members[(index + 1) % len(team.members)]
            body = {
                "projectId": project_id,
                "title": f"Task {index}",
                "content": "Seeded for the load test.",
                "customFields": {
                    "stage": STAGES[index % len(STAGES)],
                    "importance": IMPORTANCE[index % len(IMPORTANCE)],
                },
                "assigneeId": assignee.userId,
                "participants": [follower.userId],
            }
            made = await self.call("POST", "board", "/api/boards", token=owner, json=body)
            return {"boardId": made["data"]["boardId"], "assigneeId": assignee.userId}

        boards = await _all(board(i) for i in range(plan.boards_per_project))
        return {"projectId": project_id, "boards": boards}


async def _all(jobs: Any) -> list[Any]:
    return list(await asyncio.gather(*jobs))


async def seed_async(urls: dict[str, str], internal_key: str, plan: SeedPlan) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        seeder = Seeder(client, urls, internal_key)
        # Team by team: bounded concurrency, and a failure names the step that failed.
        teams = [await seeder.team(number, plan) for number in range(plan.teams)]
    return {
        "urls": urls,
        "plan": asdict(plan),
        "teams": [asdict(team) for team in teams],
    }


def seed(urls: dict[str, str], internal_key: str, plan: SeedPlan, out: Path) -> dict[str, Any]:
    data = asyncio.run(seed_async(urls, internal_key, plan))
    out.write_text(json.dumps(data, indent=1))
    return data
