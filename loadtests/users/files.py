"""Drive and video: presigned upload/download URLs (and the transfers), and video calls."""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task
from typing_extensions import override

from loadtests.users.common import SEATS, SEED, URLS, Session

STORAGE = URLS["storage"]
VIDEO = URLS["video"]
PAYLOAD = "weAlist load test file\n" * 40  # about 1 KB
FILES_KEPT = 5


class DriveUser(FastHttpUser):
    """Uploads a file (upload URL, PUT, confirm), downloads one (download URL, GET)."""

    weight = 1
    wait_time = between(3, 8)
    host = STORAGE

    @override
    def on_start(self) -> None:
        self.me = SEATS.take("drive")
        self.session = Session(self, self.me)
        self.session.sign_in()
        self.workspace_id: str = SEED.teams[self.me.team]["workspaceId"]
        self.files: list[str] = []
        self.upload()

    @task(2)
    def upload(self) -> None:
        body = {
            "workspaceId": self.workspace_id,
            "fileName": f"notes-{random.randint(1, 10**6)}.txt",
            "contentType": "text/plain",
            "fileSize": len(PAYLOAD),
        }
        with self.client.post(
            f"{STORAGE}/api/storage/files/upload-url",
            json=body,
            headers=self.session.headers,
            name="/api/storage/files/upload-url",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            grant = response.json()["data"]
        self.client.put(
            grant["uploadUrl"],
            data=PAYLOAD,
            headers={"Content-Type": "text/plain"},
            name="/api/blobs/{key} (upload)",
        )
        self.client.post(
            f"{STORAGE}/api/storage/files/confirm",
            json={"fileId": grant["fileId"]},
            headers=self.session.headers,
            name="/api/storage/files/confirm",
        )
        self.files.append(grant["fileId"])
        if len(self.files) > FILES_KEPT:
            self.client.delete(
                f"{STORAGE}/api/storage/files/{self.files.pop(0)}",
                headers=self.session.headers,
                name="/api/storage/files/{fileId}",
            )

    @task(3)
    def download(self) -> None:
        if not self.files:
            return
        file_id = random.choice(self.files)
        with self.client.get(
            f"{STORAGE}/api/storage/files/{file_id}/download",
            headers=self.session.headers,
            name="/api/storage/files/{fileId}/download",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            url = response.json()["data"]["downloadUrl"]
        self.client.get(url, name="/api/blobs/{key} (download)")

    @task(1)
    def browse(self) -> None:
        self.client.get(
            f"{STORAGE}/api/storage/workspaces/{self.workspace_id}/files?page=1&pageSize=20",
            headers=self.session.headers,
            name="/api/storage/workspaces/{workspaceId}/files",
        )


class VideoUser(FastHttpUser):
    """Starts a call in the team's workspace, joins it, looks who is there, leaves."""

    weight = 1
    wait_time = between(5, 10)
    host = VIDEO

    @override
    def on_start(self) -> None:
        self.me = SEATS.take("video")
        self.session = Session(self, self.me)
        self.session.sign_in()
        self.workspace_id: str = SEED.teams[self.me.team]["workspaceId"]

    @task
    def call(self) -> None:
        headers = self.session.headers
        with self.client.post(
            f"{VIDEO}/api/video/rooms",
            json={"name": "Stand-up", "workspaceId": self.workspace_id},
            headers=headers,
            name="/api/video/rooms",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}")
                return
            room = response.json()["data"]["id"]
        self.client.post(
            f"{VIDEO}/api/video/rooms/{room}/join",
            json={},
            headers=headers,
            name="/api/video/rooms/{roomId}/join",
        )
        self.client.get(
            f"{VIDEO}/api/video/rooms/workspace/{self.workspace_id}?active=true",
            headers=headers,
            name="/api/video/rooms/workspace/{workspaceId}",
        )
        self.client.post(
            f"{VIDEO}/api/video/rooms/{room}/leave",
            headers=headers,
            name="/api/video/rooms/{roomId}/leave",
        )
