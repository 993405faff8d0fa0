"""Idempotency-Key on POST (reliability T16): the first answer is kept and replayed, per
caller, across processes sharing the database; another request under the same key is 422,
one still running is 409, a 5xx is not kept."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from tests.core import idempotency_probe as probe
from tests.plugins.harness import Environment, TokenIssuer

ROUTES = "tests.core.idempotency_probe:ROUTES"


def auth(issuer: TokenIssuer, user: str, key: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {issuer.token(user)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def test_a_retry_gets_the_first_answer_byte_for_byte_on_another_process(
    app_client: Callable[..., Any], issuer: TokenIssuer
) -> None:
    me, key, name = str(uuid.uuid4()), uuid.uuid4().hex, uuid.uuid4().hex
    async with (
        app_client("board", routes=ROUTES) as one,
        app_client("board", routes=ROUTES) as other,  # a second replica, same database
    ):
        first = await one.post("/probe/orders", json={"name": name}, headers=auth(issuer, me, key))
        assert first.status_code == 201, first.text
        again = await other.post(
            "/probe/orders", json={"name": name}, headers=auth(issuer, me, key)
        )
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert probe.RUNS[name] == 1

        # the same key with another body, or on another route: 422, nothing runs
        other_body = await one.post(
            "/probe/orders", json={"name": name + "x"}, headers=auth(issuer, me, key)
        )
        assert other_body.status_code == 422, other_body.text
        assert other_body.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert probe.RUNS[name + "x"] == 0

        # another user with the same key: runs for them, never sees my answer
        you = str(uuid.uuid4())
        theirs = await other.post(
            "/probe/orders", json={"name": name}, headers=auth(issuer, you, key)
        )
        assert theirs.status_code == 201
        assert (theirs.json()["by"], theirs.json()["run"]) == (you, 2)

        # without a key nothing changes: every request runs
        for _ in range(2):
            plain = await one.post(
                "/probe/orders", json={"name": name}, headers=auth(issuer, me, None)
            )
            assert plain.status_code == 201
        assert probe.RUNS[name] == 4


async def test_errors_below_500_are_kept_a_5xx_is_not(
    app_client: Callable[..., Any], issuer: TokenIssuer
) -> None:
    me = str(uuid.uuid4())
    async with app_client("board", routes=ROUTES) as client:
        bad_key = uuid.uuid4().hex
        for _ in range(2):
            bad = await client.post(
                "/probe/orders", json={"name": "bad"}, headers=auth(issuer, me, bad_key)
            )
            assert bad.status_code == 400
        assert bad.headers["idempotent-replayed"] == "true"

        name, key = uuid.uuid4().hex, uuid.uuid4().hex
        probe.FAIL_FIRST.add(name)
        failed = await client.post(
            "/probe/orders", json={"name": name}, headers=auth(issuer, me, key)
        )
        assert failed.status_code == 503
        retried = await client.post(
            "/probe/orders", json={"name": name}, headers=auth(issuer, me, key)
        )
        assert retried.status_code == 201  # the 5xx was not kept: the retry ran
        assert "idempotent-replayed" not in retried.headers
        assert probe.RUNS[name] == 1

        # a key that is not a visible-ASCII token of 1-255 characters
        for wrong in ("", "x" * 256, "two words"):
            refused = await client.post(
                "/probe/orders", json={"name": name}, headers=auth(issuer, me, wrong)
            )
            assert refused.status_code == 400, wrong
        # without a valid token the route itself answers 401 (no key is stored)
        anonymous = await client.post(
            "/probe/orders", json={"name": name}, headers={"Idempotency-Key": key}
        )
        assert anonymous.status_code == 401


async def test_a_duplicate_while_the_first_runs_is_409_and_a_dead_claim_is_taken_over(
    app_client: Callable[..., Any], issuer: TokenIssuer, environment: Environment
) -> None:
    me, key, name = str(uuid.uuid4()), uuid.uuid4().hex, uuid.uuid4().hex
    body, headers = {"name": name}, auth(issuer, me, key)

    async def claim_as_running(age: str) -> None:
        # What a replica's claim looks like while its request runs (no answer yet), or
        # after its process died (an old claim nobody will answer).
        async with await psycopg.AsyncConnection.connect(environment.databases["board"]) as c:
            await c.execute(
                "UPDATE idempotency_keys SET status = NULL, body = NULL,"
                " claimed_at = now() - %s::interval WHERE key = %s",
                (age, key),
            )

    async with app_client("board", routes=ROUTES, idempotency_lease_s=30) as client:
        assert (await client.post("/probe/orders", json=body, headers=headers)).status_code == 201
        await claim_as_running("0 seconds")
        duplicate = await client.post("/probe/orders", json=body, headers=headers)
        assert duplicate.status_code == 409
        assert duplicate.json()["error"]["code"] == "IDEMPOTENCY_IN_FLIGHT"
        assert duplicate.headers["retry-after"] == "1"
        assert probe.RUNS[name] == 1

        await claim_as_running("1 minute")  # past the lease: its process is gone
        taken_over = await client.post("/probe/orders", json=body, headers=headers)
        assert taken_over.status_code == 201
        assert taken_over.json()["run"] == 2
        replay = await client.post("/probe/orders", json=body, headers=headers)
        assert (replay.status_code, replay.content) == (201, taken_over.content)
