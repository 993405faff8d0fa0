"""Refresh-token rotation and reuse detection as a stateful property (reliability T23).

A Hypothesis state machine drives the real auth app (in-process, real PostgreSQL and
Redis) for a few users with several sessions (refresh families) each: logins, refreshes
with the family's current token, replays of already-rotated tokens, two refreshes racing
with the same token, logouts. The model says which families are alive; after every step:

- a live family's access tokens are accepted by another service (board, through its JWKS
  and the shared revocation list), by auth's own session list and by ``/validate``; every
  access token of a revoked family is refused by all three;
- the session list of each user is exactly their live families;
- and in the rules: a refresh of a live family returns a new pair of the same family and
  the old refresh token stops working; replaying a rotated token is refused and revokes
  that family (its current token stops working), never another; of two racing refreshes
  at most one succeeds; logout kills its family (refresh and access tokens).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.core.test_security import revocations_of
from tests.properties.conftest import Client
from tests.properties.support import Bridge, gather, run_machine

PASSWORD = "correct horse battery staple"


def claims(token: str) -> dict[str, Any]:
    found: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Family:
    """One session as the model sees it."""

    user: str
    sid: str
    current: str  # the refresh token that works while the family lives
    rotated: list[str] = field(default_factory=list)  # refresh tokens already used once
    access: list[str] = field(default_factory=list)  # every access token issued in it
    alive: bool = True

    def __repr__(self) -> str:
        state = "alive" if self.alive else "revoked"
        return f"Family(sid={self.sid[:8]}, {state}, rotations={len(self.rotated)})"

    def take(self, pair: dict[str, str]) -> None:
        assert claims(pair["refreshToken"])["sid"] == self.sid
        assert claims(pair["accessToken"])["sid"] == self.sid
        self.current = pair["refreshToken"]
        self.access.append(pair["accessToken"])


class Rotation(RuleBasedStateMachine):
    auth: Client
    probe: Client

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.run = bridge
        self.emails: dict[str, str] = {}  # user id -> email
        self.families: list[Family] = []

    # --- requests ---------------------------------------------------------------------

    def refresh(self, token: str) -> Any:
        return self.run(self.auth.post("/api/auth/refresh", json={"refreshToken": token}))

    def opened(self, pair: dict[str, str]) -> None:
        sid = claims(pair["accessToken"])["sid"]
        assert sid not in {f.sid for f in self.families}  # a login is a new family
        family = Family(pair["userId"], sid, pair["refreshToken"])
        family.take(pair)
        self.families.append(family)

    def live(self) -> list[Family]:
        return [f for f in self.families if f.alive]

    def with_rotated(self) -> list[Family]:
        return [f for f in self.families if f.rotated]

    # --- rules ------------------------------------------------------------------------

    @initialize(count=st.integers(2, 3))
    def sign_up(self, count: int) -> None:
        for _ in range(count):
            email = f"rot-{uuid.uuid4().hex[:12]}@example.com"
            r = self.run(
                self.auth.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
            )
            assert r.status_code == 201, r.text
            pair = r.json()
            self.emails[pair["userId"]] = email
            self.opened(pair)

    @rule(data=st.data())
    def login(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(sorted(self.emails)), label="user")
        r = self.run(
            self.auth.post(
                "/api/auth/login", json={"email": self.emails[user], "password": PASSWORD}
            )
        )
        assert r.status_code == 200, r.text
        assert r.json()["userId"] == user
        self.opened(r.json())

    @rule(data=st.data())
    def refresh_current(self, data: st.DataObject) -> None:
        family = data.draw(st.sampled_from(self.families), label="family")
        old = family.current
        r = self.refresh(old)
        if not family.alive:
            assert r.status_code == 401, r.text
            return
        assert r.status_code == 200, r.text
        pair = r.json()
        assert pair["refreshToken"] != old and pair["userId"] == family.user
        family.rotated.append(old)
        family.take(pair)

    @precondition(lambda self: self.with_rotated())
    @rule(data=st.data())
    def replay_rotated(self, data: st.DataObject) -> None:
        """A copy of a token that was already rotated: refused, and its family is over."""
        family = data.draw(st.sampled_from(self.with_rotated()), label="family")
        stolen = data.draw(st.sampled_from(family.rotated), label="rotated token")
        r = self.refresh(stolen)
        assert r.status_code == 401, r.text
        family.alive = False

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def racing_refreshes(self, data: st.DataObject) -> None:
        """The same current token twice at once: at most one new pair; the other use is a
        replay, so the family ends unless neither went through."""
        family = data.draw(st.sampled_from(self.live()), label="family")
        token = family.current
        body = {"refreshToken": token}
        first, second = self.run(
            gather(
                self.auth.post("/api/auth/refresh", json=body),
                self.auth.post("/api/auth/refresh", json=body),
            )
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses in ([200, 401], [401, 401]), (first.text, second.text)
        won = first if first.status_code == 200 else second
        if won.status_code == 200:
            family.rotated.append(token)
            family.take(won.json())
        family.alive = False

    @rule(data=st.data())
    def logout(self, data: st.DataObject) -> None:
        family = data.draw(st.sampled_from(self.families), label="family")
        token = data.draw(st.sampled_from(family.access), label="access token")
        r = self.run(self.auth.post("/api/auth/logout", headers=bearer(token)))
        assert r.status_code == (200 if family.alive else 401), r.text
        family.alive = False

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def access_follows_the_family(self) -> None:
        # the probe (another service) learns revocations by push: wait until it has them
        assert self.run(revocations_of(self.probe, "board").sync())
        for family in self.families:
            # the first and the newest access token of the family stand for all of them
            first, newest = family.access[0], family.access[-1]
            expected = 200 if family.alive else 401
            seen = self.run(self.probe.get("/probe/me", headers=bearer(newest)))
            assert seen.status_code == expected, (family, seen.text)
            listed = self.run(self.auth.get("/api/auth/sessions", headers=bearer(first)))
            assert listed.status_code == expected, (family, listed.text)
            valid = self.run(self.auth.post("/api/auth/validate", json={"token": newest}))
            assert valid.json()["valid"] is family.alive, (family, valid.text)

    @invariant()
    def sessions_are_the_live_families(self) -> None:
        for user in self.emails:
            mine = [f for f in self.families if f.user == user]
            alive = [f for f in mine if f.alive]
            if not alive:
                continue
            listed = self.run(
                self.auth.get("/api/auth/sessions", headers=bearer(alive[-1].access[-1]))
            )
            assert listed.status_code == 200, listed.text
            assert sorted(s["id"] for s in listed.json()) == sorted(f.sid for f in alive)


async def test_refresh_rotation_follows_the_model(auth: Client, probe: Client) -> None:
    class Bound(Rotation):
        pass

    Bound.auth, Bound.probe = auth, probe
    await run_machine(Bound, "refresh")
