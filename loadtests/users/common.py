"""What every simulated person shares: the seed, signing in, and reporting to Locust.

Only the Locust process imports ``loadtests.users`` (``import locust`` patches the process
with gevent). Everything here runs in that one process, so the realtime users correlate a
trigger with its delivery through in-memory registries and ``time.perf_counter``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust import FastHttpUser
from locust.env import Environment

SEED_ENV = "WEALIST_LOAD_SEED"
REFRESH_MARGIN_S = 120.0  # refresh an access token this long before it expires


# --- the seed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str
    password: str | None
    team: int
    index: int  # in the team; 0 is the workspace owner


@dataclass(frozen=True)
class Seed:
    urls: dict[str, str]
    teams: list[dict[str, Any]]

    def member(self, team: int, index: int) -> Member:
        raw = self.teams[team]["members"][index]
        return Member(raw["userId"], raw["email"], raw.get("password"), team, index)

    def team_size(self, team: int) -> int:
        return len(self.teams[team]["members"])

    def boards_of(self, team: int, assignee: str | None = None) -> list[tuple[str, str]]:
        """(projectId, boardId) pairs of a team, optionally only one person's tasks."""
        return [
            (project["projectId"], board["boardId"])
            for project in self.teams[team]["projects"]
            for board in project["boards"]
            if assignee is None or board["assigneeId"] == assignee
        ]


def load_seed() -> Seed:
    path = os.environ.get(SEED_ENV)
    if not path:
        raise SystemExit(f"{SEED_ENV} must name the seed.json of this run (see loadtests/run.py)")
    data = json.loads(Path(path).read_text())
    return Seed(data["urls"], data["teams"])


SEED = load_seed()
URLS = SEED.urls


class Seats:
    """Hands out seeded people to simulated users: team by team, member by member, so the
    users of one kind fill one team's chat before the next (more receivers per message)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, Iterator[int]] = {}

    def take(self, kind: str) -> Member:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count())
            n = next(counter)
        sizes = [SEED.team_size(t) for t in range(len(SEED.teams))]
        n %= sum(sizes)
        for team, size in enumerate(sizes):
            if n < size:
                return SEED.member(team, n)
            n -= size
        raise AssertionError("unreachable")


SEATS = Seats()


# --- reporting --------------------------------------------------------------------------


class DeliveryError(Exception):
    """A realtime delivery that went wrong (lost, late, doubled, out of order)."""


def report(
    environment: Environment,
    kind: str,
    name: str,
    elapsed_s: float,
    *,
    length: int = 0,
    error: Exception | None = None,
) -> None:
    """A WebSocket/SSE sample in Locust's statistics, exactly like an HTTP request."""
    environment.events.request.fire(
        request_type=kind,
        name=name,
        response_time=elapsed_s * 1000.0,
        response_length=length,
        exception=error,
        context={},
    )


class Sent:
    """Triggers waiting for their deliveries: marker -> when the trigger started.

    Entries are kept ``keep_s`` so late receivers still find them, then dropped: a soak
    run must not grow it without bound.
    """

    def __init__(self, keep_s: float = 120.0) -> None:
        self._items: dict[str, float] = {}
        self._lock = threading.Lock()
        self._keep_s = keep_s
        self._swept = time.perf_counter()

    def add(self, marker: str, started: float) -> None:
        with self._lock:
            self._items[marker] = started
            now = time.perf_counter()
            if now - self._swept > 10:
                self._swept = now
                stale = [k for k, t in self._items.items() if now - t > self._keep_s]
                for key in stale:
                    del self._items[key]

    def get(self, marker: str) -> float | None:
        with self._lock:
            return self._items.get(marker)


def new_marker() -> str:
    return uuid.uuid4().hex[:16]


# --- signing in -------------------------------------------------------------------------


def _expiry(token: str) -> float:
    """The ``exp`` of a JWT, read without verifying (the services verify it)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class Session:
    """One person's tokens, refreshed before they expire (soak runs outlive them)."""

    def __init__(self, user: FastHttpUser, member: Member) -> None:
        self.user = user
        self.member = member
        self.access = ""
        self.refresh = ""
        self.expires_at = 0.0

    def sign_in(self) -> None:
        """Password login for the people seeded with one, else the test-token endpoint."""
        if self.member.password:
            body = {"email": self.member.email, "password": self.member.password}
            url, name = f"{URLS['auth']}/api/auth/login", "/api/auth/login"
        else:
            body = {"userId": self.member.user_id, "email": self.member.email}
            url, name = f"{URLS['auth']}/api/test/token", "/api/test/token"
        with self.user.client.post(url, json=body, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"sign-in {response.status_code}")
                raise RuntimeError(f"{name} -> {response.status_code}")
            self._take(response.json())

    def _take(self, pair: dict[str, Any]) -> None:
        self.access = pair["accessToken"]
        self.refresh = pair["refreshToken"]
        self.expires_at = _expiry(self.access)

    def token(self) -> str:
        if time.time() > self.expires_at - REFRESH_MARGIN_S:
            url = f"{URLS['auth']}/api/auth/refresh"
            with self.user.client.post(
                url,
                json={"refreshToken": self.refresh},
                name="/api/auth/refresh",
                catch_response=True,
            ) as response:
                if response.status_code == 200:
                    self._take(response.json())
                else:
                    response.failure(f"refresh {response.status_code}")
                    self.sign_in()
        return self.access

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}


def pick(items: list[Any]) -> Any:
    return random.choice(items)  # load mix, not security
