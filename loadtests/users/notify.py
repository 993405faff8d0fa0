"""Someone with the app open: notifications arrive over SSE while teammates comment.

The stream is followed by a greenlet for the whole session (reconnecting with
``Last-Event-ID`` when it ends, e.g. when the access token expires). Every comment of the
run carries a marker; a notification that quotes one is timed from the start of that
comment's POST ("SSE comment->notification"). This user also has a teammate comment on its
own tasks and expects each of those notifications within ``EXPECTED_WITHIN_S``: one that
does not come is a failure of the same name, so a lost notification fails the gate.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import gevent
import gevent.event
import requests
from locust import FastHttpUser, between, task
from typing_extensions import override

from loadtests.users.common import (
    SEATS,
    SEED,
    URLS,
    DeliveryError,
    Sent,
    Session,
    new_marker,
    pick,
    report,
)

COMMENTS = Sent()
MARKER = re.compile(r"\[m:([0-9a-f]{16})\]")
EXPECTED_WITHIN_S = 15.0
CONNECT_WITHIN_S = 30.0
STREAM = f"{URLS['noti']}/api/notifications/stream"


def sse_events(response: requests.Response) -> Iterator[tuple[str, str, str | None]]:
    """(event, data, id) of each event of a ``text/event-stream`` body, as it arrives."""
    event: str = "message"
    event_id: str | None = None
    data: list[str] = []
    for raw in response.iter_lines(chunk_size=None, decode_unicode=True):
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield event, "\n".join(data), event_id
            event, event_id, data = "message", None, []
        elif line.startswith(":"):
            continue  # a keep-alive comment
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value


class NotifiedUser(FastHttpUser):
    weight = 2
    wait_time = between(3, 6)
    host = URLS["noti"]

    @override
    def on_start(self) -> None:
        self.me = SEATS.take("notified")
        self.session = Session(self, self.me)
        self.session.sign_in()
        size = SEED.team_size(self.me.team)
        self.mate = Session(self, SEED.member(self.me.team, (self.me.index + 1) % size))
        self.mate.sign_in()
        self.workspace_id: str = SEED.teams[self.me.team]["workspaceId"]
        self.my_tasks = SEED.boards_of(self.me.team, self.me.user_id)
        self.awaiting: dict[str, float] = {}
        self.last_event_id: str | None = None
        self.stopping = False
        self.connected = gevent.event.Event()
        self.reader = gevent.spawn(self._follow)
        # Nothing before the stream is open: a notification created earlier is not sent on
        # a stream opened without Last-Event-ID, and would count as lost.
        self.connected.wait(timeout=CONNECT_WITHIN_S)

    @override
    def on_stop(self) -> None:
        self.stopping = True
        self.reader.kill(block=False)

    # --- the stream -----------------------------------------------------------------

    def _follow(self) -> None:
        while not self.stopping:
            started = time.perf_counter()
            headers = {"Accept": "text/event-stream", **self.session.headers}
            if self.last_event_id:
                headers["Last-Event-ID"] = self.last_event_id
            try:
                with requests.get(STREAM, headers=headers, stream=True, timeout=(10, 75)) as r:
                    if r.status_code != 200:
                        raise DeliveryError(f"stream refused: {r.status_code}")
                    for event, data, event_id in sse_events(r):
                        self._on_event(event, data, started)
                        if event_id:
                            self.last_event_id = event_id
            except (requests.RequestException, DeliveryError, ValueError) as exc:
                if self.stopping:
                    return
                report(
                    self.environment,
                    "SSE",
                    "notifications connect",
                    time.perf_counter() - started,
                    error=exc,
                )
                gevent.sleep(1.0)

    def _on_event(self, event: str, data: str, opened: float) -> None:
        now = time.perf_counter()
        if event == "connected":
            report(self.environment, "SSE", "notifications connect", now - opened)
            self.connected.set()
            return
        if event != "notification":
            return
        notice = json.loads(data)
        preview = (notice.get("metadata") or {}).get("commentPreview") or ""
        found = MARKER.search(preview)
        if found is None:
            return
        marker = found.group(1)
        self.awaiting.pop(marker, None)
        started = COMMENTS.get(marker)
        if started is not None:
            report(
                self.environment, "SSE", "comment->notification", now - started, length=len(data)
            )

    def _overdue(self) -> None:
        now = time.perf_counter()
        for marker, started in list(self.awaiting.items()):
            if now - started > EXPECTED_WITHIN_S:
                del self.awaiting[marker]
                report(
                    self.environment,
                    "SSE",
                    "comment->notification",
                    now - started,
                    error=DeliveryError(f"no notification within {EXPECTED_WITHIN_S:.0f} s"),
                )

    # --- what the person does -------------------------------------------------------

    @task(3)
    def teammate_comments_on_my_task(self) -> None:
        if not self.connected.is_set():
            return  # the stream never opened: its failure is already counted
        _, board = pick(self.my_tasks)
        marker = new_marker()
        started = time.perf_counter()
        COMMENTS.add(marker, started)
        self.awaiting[marker] = started
        with self.client.post(
            f"{URLS['board']}/api/comments",
            json={"boardId": board, "content": f"Can you check this? [m:{marker}]"},
            headers=self.mate.headers,
            name="/api/comments",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                self.awaiting.pop(marker, None)  # counted as a failed request already
                response.failure(f"status {response.status_code}")
        self._overdue()

    @task(1)
    def list_notifications(self) -> None:
        self.client.get(
            f"{URLS['noti']}/api/notifications?page=1&limit=20",
            headers={**self.session.headers, "X-Workspace-Id": self.workspace_id},
            name="/api/notifications",
        )

    @task(1)
    def unread_count(self) -> None:
        self.client.get(
            f"{URLS['noti']}/api/notifications/unread-count",
            headers={**self.session.headers, "X-Workspace-Id": self.workspace_id},
            name="/api/notifications/unread-count",
        )
