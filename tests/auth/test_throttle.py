"""Login throttling (T25) over HTTP: per-IP budget, soft per-account delay, no account
enumeration. The delay ladder itself, against a clock the test moves, is in
test_throttle_ladder.py; here only what holds however fast the machine runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.auth.conftest import PASSWORD, Client, new_email, signup

GATEWAY = {"trusted_proxies": ["testclient"]}  # the in-process peer plays the gateway


async def attempt(auth: Client, email: str, ip: str, password: str = "wrong password!") -> Any:
    return await auth.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip},
    )


async def test_one_ip_gets_its_budget_then_429(open_auth: Callable[..., Any]) -> None:
    async with open_auth(login_ip_limit_per_min=10, **GATEWAY) as auth:
        statuses = [
            (await attempt(auth, new_email(), "203.0.113.7")).status_code for _ in range(100)
        ]
        assert statuses[:10] == [401] * 10
        assert set(statuses[10:]) == {429}
        r = await attempt(auth, new_email(), "203.0.113.7")
        assert int(r.headers["retry-after"]) > 0
        # the client cannot pick its own key: a spoofed header from a non-proxy peer is ignored
        assert (await attempt(auth, new_email(), "198.51.100.1")).status_code == 401


async def test_many_ips_on_one_account_hit_the_account_delay(
    open_auth: Callable[..., Any],
) -> None:
    async with open_auth(**GATEWAY) as auth:
        pair_email = new_email()
        await signup(auth, pair_email)
        unknown = new_email()

        async def storm(email: str) -> list[tuple[int, str, str]]:
            seen = []
            for n in range(200):
                for _ in range(5):
                    r = await attempt(auth, email, f"10.{n // 250}.{n % 250}.{len(seen) % 5 + 1}")
                    body = r.json()
                    seen.append((r.status_code, body.get("code", ""), body.get("message", "")))
            return seen

        real, ghost = await storm(pair_email), await storm(unknown)
        checked = sum(1 for status, _, _ in real if status == 401)
        # the five free failures are always tried; of the other 995 most waited (429)
        assert 5 <= checked < 100
        assert {status for status, _, _ in real} == {401, 429}
        assert not any(status == 200 for status, _, _ in real)
        # an unknown account answers exactly like a real one
        assert {(s, c, m) for s, c, m in real} == {(s, c, m) for s, c, m in ghost}


async def test_the_owner_is_delayed_never_locked_out(open_auth: Callable[..., Any]) -> None:
    async with open_auth(login_account_max_delay_s=1, **GATEWAY) as auth:
        email = new_email()
        await signup(auth, email)
        for n in range(30):
            await attempt(auth, email, f"192.0.2.{n + 1}")
        assert (await attempt(auth, email, "192.0.2.99", PASSWORD)).status_code == 429
        await asyncio.sleep(1.1)  # the capped delay
        r = await attempt(auth, email, "192.0.2.99", PASSWORD)
        assert r.status_code == 200, r.text


async def test_wrong_password_and_unknown_email_read_the_same(auth: Client) -> None:
    email = new_email()
    await signup(auth, email)
    wrong = await auth.post("/api/auth/login", json={"email": email, "password": "nope nope nope"})
    unknown = await auth.post(
        "/api/auth/login", json={"email": new_email(), "password": "nope nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert {k: v for k, v in wrong.json().items() if k != "requestId"} == {
        k: v for k, v in unknown.json().items() if k != "requestId"
    }


async def test_password_rules_are_clear_400s(auth: Client) -> None:
    email = new_email()
    for password, words in (("short", "at least 8"), ("        ", "only spaces"), (email, "email")):
        r = await auth.post("/api/auth/signup", json={"email": email, "password": password})
        assert r.status_code == 400
        assert words in r.json()["message"]
    r = await auth.post("/api/auth/signup", json={"email": "not-an-email", "password": PASSWORD})
    assert r.status_code == 400
    await signup(auth, email)
    r = await auth.post("/api/auth/signup", json={"email": email.upper(), "password": PASSWORD})
    assert r.status_code == 409
