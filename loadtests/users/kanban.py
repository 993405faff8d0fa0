"""A team member at the kanban board: opens projects, reads, creates, moves and updates
tasks, comments. Comments carry a marker so whoever gets the notification can time it."""

from __future__ import annotations

import random
import time

from locust import FastHttpUser, between, task
from typing_extensions import override

from loadtests.users.common import SEATS, SEED, URLS, Session, new_marker, pick
from loadtests.users.notify import COMMENTS

BOARD = URLS["board"]
STAGES = ("pending", "in_progress", "review", "approved")
CREATED_KEPT = 5  # tasks one person keeps before deleting the oldest (a steady state)


class KanbanUser(FastHttpUser):
    weight = 6
    wait_time = between(1, 4)
    host = BOARD

    @override
    def on_start(self) -> None:
        self.me = SEATS.take("kanban")
        self.session = Session(self, self.me)
        self.session.sign_in()
        team = SEED.teams[self.me.team]
        self.workspace_id: str = team["workspaceId"]
        self.projects = [p["projectId"] for p in team["projects"]]
        self.boards = SEED.boards_of(self.me.team)
        self.teammates = [m["userId"] for m in team["members"]]
        self.created: list[str] = []
        self.list_workspaces()
        self.open_project()

    @task(1)
    def list_workspaces(self) -> None:
        self.client.get(
            f"{URLS['user']}/api/workspaces/all",
            headers=self.session.headers,
            name="/api/workspaces/all",
        )

    @task(3)
    def open_project(self) -> None:
        """What the kanban screen loads first: settings (columns), then the cards."""
        project = pick(self.projects)
        headers = self.session.headers
        self.client.get(
            f"{BOARD}/api/projects/{project}/init-settings",
            headers=headers,
            name="/api/projects/{projectId}/init-settings",
        )
        self.client.get(
            f"{BOARD}/api/boards?projectId={project}",
            headers=headers,
            name="/api/boards?projectId",
        )

    @task(3)
    def view_task(self) -> None:
        _, board = pick(self.boards)
        self.client.get(
            f"{BOARD}/api/boards/{board}",
            headers=self.session.headers,
            name="/api/boards/{boardId}",
        )

    @task(3)
    def move_task(self) -> None:
        project, board = pick(self.boards)
        self.client.put(
            f"{BOARD}/api/boards/{board}/move",
            json={
                "projectId": project,
                "groupByFieldName": "stage",
                "newFieldValue": random.choice(STAGES),
            },
            headers=self.session.headers,
            name="/api/boards/{boardId}/move",
        )

    @task(2)
    def update_task(self) -> None:
        _, board = pick(self.boards)
        self.client.put(
            f"{BOARD}/api/boards/{board}",
            json={"title": f"Task {random.randint(1, 999)}", "content": "Edited under load."},
            headers=self.session.headers,
            name="/api/boards/{boardId}",
        )

    @task(2)
    def comment(self) -> None:
        _, board = pick(self.boards)
        marker = new_marker()
        COMMENTS.add(marker, time.perf_counter())  # whoever is notified times it from here
        self.client.post(
            f"{BOARD}/api/comments",
            json={"boardId": board, "content": f"On it [m:{marker}]"},
            headers=self.session.headers,
            name="/api/comments",
        )

    @task(1)
    def create_task(self) -> None:
        """A new task for a teammate; the oldest of one's own goes once there are enough."""
        body = {
            "projectId": pick(self.projects),
            "title": "New task",
            "content": "Created under load.",
            "customFields": {"stage": "pending"},
            "assigneeId": pick(self.teammates),
        }
        with self.client.post(
            f"{BOARD}/api/boards",
            json=body,
            headers=self.session.headers,
            name="/api/boards",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.created.append(response.json()["data"]["boardId"])
        if len(self.created) > CREATED_KEPT:
            oldest = self.created.pop(0)
            self.client.delete(
                f"{BOARD}/api/boards/{oldest}",
                headers=self.session.headers,
                name="/api/boards/{boardId}",
            )
