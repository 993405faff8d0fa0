"""Refresh rotation with reuse detection, logout everywhere, token types, validate, JWKS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from redis.asyncio import Redis

from tests.auth.conftest import Client, bearer, signup
from tests.core.realtime.waiting import eventually
from tests.core.test_security import revocations_of
from wealist.contracts.keys import REVOCATIONS_LOADED
from wealist.core.settings import SettingsError

PROBE = "tests.core.probe:ROUTES"


async def refresh(client: Client, token: str) -> Any:
    return await client.post("/api/auth/refresh", json={"refreshToken": token})


async def test_signup_issues_a_pair_with_the_contract_claims(auth: Client) -> None:
    pair = await signup(auth)
    assert set(pair) == {"accessToken", "refreshToken", "userId"}
    access = jwt.decode(pair["accessToken"], options={"verify_signature": False})
    header = jwt.get_unverified_header(pair["accessToken"])
    assert header["alg"] == "RS256" and header["kid"]
    assert access["sub"] == pair["userId"] and access["type"] == "access"
    assert access["iss"] == "wealist-auth-service" and access["jti"] and access["sid"]
    assert access["exp"] - access["iat"] == 900  # 15 minutes
    assert access["email"].endswith("@example.com")
    assert jwt.decode(pair["refreshToken"], options={"verify_signature": False})["type"] == (
        "refresh"
    )


async def test_replaying_a_rotated_refresh_token_revokes_the_family(
    auth: Client, app_client: Callable[..., Any]
) -> None:
    first = await signup(auth)
    r = await refresh(auth, first["refreshToken"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refreshToken"] != first["refreshToken"]
    async with app_client("board", routes=PROBE) as board:
        assert (
            await board.get("/probe/me", headers=bearer(second["accessToken"]))
        ).status_code == 200

        replay = await refresh(auth, first["refreshToken"])  # RT1 again: stolen copy
        assert replay.status_code == 401
        assert replay.json()["code"] == "AUTH006"
        assert (await refresh(auth, second["refreshToken"])).status_code == 401  # RT2 is dead
        # ... and so is the access token issued with RT2, in another service too, once the
        # push has reached it (sync: everything published so far is applied there)
        assert await revocations_of(board, "board").sync()
        r = await board.get("/probe/me", headers=bearer(second["accessToken"]))
        assert r.status_code == 401


async def test_logout_kills_the_access_token_everywhere_and_the_refresh_token(
    auth: Client, app_client: Callable[..., Any]
) -> None:
    pair = await signup(auth)
    async with app_client("board", routes=PROBE) as board:
        assert (
            await board.get("/probe/me", headers=bearer(pair["accessToken"]))
        ).status_code == 200
        r = await auth.post("/api/auth/logout", headers=bearer(pair["accessToken"]))
        assert r.status_code == 200
        assert r.json() == {"success": True, "message": "로그아웃 성공"}
        # auth's own verifier took the revocation at commit: refused at once, no waiting
        assert (
            await auth.get("/api/auth/sessions", headers=bearer(pair["accessToken"]))
        ).status_code == 401
        # another service's, by the push: refused once it is applied there
        assert await revocations_of(board, "board").sync()
        assert (
            await board.get("/probe/me", headers=bearer(pair["accessToken"]))
        ).status_code == 401
    assert (await refresh(auth, pair["refreshToken"])).status_code == 401
    assert (await auth.post("/api/auth/logout")).status_code == 401  # no token


async def test_token_types_never_cross(auth: Client, app_client: Callable[..., Any]) -> None:
    pair = await signup(auth)
    async with app_client("board", routes=PROBE) as board:
        r = await board.get("/probe/me", headers=bearer(pair["refreshToken"]))
        assert r.status_code == 401
    r = await refresh(auth, pair["accessToken"])
    assert r.status_code == 401
    assert r.json()["code"] == "AUTH001"


async def test_refresh_needs_the_field(auth: Client) -> None:
    for body in ({}, {"refreshToken": ""}, {"refreshToken": 5}):
        r = await auth.post("/api/auth/refresh", json=body)
        assert r.status_code == 400, body
        assert r.json()["code"] == "VALIDATION_ERROR"
    r = await refresh(auth, "not-a-jwt")
    assert (r.status_code, r.json()["code"]) == (401, "AUTH004")


async def test_validate_answers_200_with_a_reason(auth: Client) -> None:
    pair = await signup(auth)
    r = await auth.post("/api/auth/validate", json={"token": pair["accessToken"]})
    assert r.status_code == 200
    assert r.json() == {"valid": True, "message": "Token is valid", "userId": pair["userId"]}
    r = await auth.post("/api/auth/validate", json={"token": "garbage"})
    assert r.status_code == 200
    assert r.json()["valid"] is False and r.json()["code"] == "AUTH004"
    r = await auth.post("/api/auth/validate", json={"token": pair["refreshToken"]})
    assert r.json()["valid"] is False and r.json()["code"] == "AUTH001"
    assert (await auth.post("/api/auth/validate", json={})).status_code == 400


async def test_sessions_list_and_end(auth: Client) -> None:
    first = await signup(auth)
    email = jwt.decode(first["accessToken"], options={"verify_signature": False})["email"]
    r = await auth.post(
        "/api/auth/login",
        json={"email": email, "password": "correct horse battery staple"},
        headers={"User-Agent": "second-device"},
    )
    assert r.status_code == 200, r.text
    second = r.json()
    listed = (await auth.get("/api/auth/sessions", headers=bearer(second["accessToken"]))).json()
    assert len(listed) == 2
    assert [s["current"] for s in listed] == [True, False]
    assert listed[0]["userAgent"] == "second-device"
    r = await auth.post("/api/auth/sessions/revoke-others", headers=bearer(second["accessToken"]))
    assert r.json() == {"revoked": 1}
    assert (await refresh(auth, first["refreshToken"])).status_code == 401
    # another user's session id is not found, not revoked
    other = await signup(auth)
    mine = listed[0]["id"]
    r = await auth.delete(f"/api/auth/sessions/{mine}", headers=bearer(other["accessToken"]))
    assert r.status_code == 404
    r = await auth.delete(f"/api/auth/sessions/{mine}", headers=bearer(second["accessToken"]))
    assert r.status_code == 204
    assert (
        await auth.get("/api/auth/sessions", headers=bearer(second["accessToken"]))
    ).status_code == 401


async def test_jwks_and_discovery(auth: Client) -> None:
    r = await auth.get("/.well-known/jwks.json")
    assert r.status_code == 200
    assert "max-age=300" in r.headers["cache-control"]
    [key] = r.json()["keys"]
    assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}  # never d, p, q, ...
    config = (await auth.get("/.well-known/openid-configuration")).json()
    assert config["issuer"] == "wealist-auth-service"
    assert config["jwks_uri"].endswith("/.well-known/jwks.json")
    assert "userinfo_endpoint" not in config  # the original advertised one that did not exist


async def test_revocations_survive_redis_losing_them(
    auth: Client, app_client: Callable[..., Any], redis: Redis
) -> None:
    """T20: Redis emptied (FLUSHALL, restart without persistence): nothing revoked comes back."""
    logged_out, rotated, live = await signup(auth), await signup(auth), await signup(auth)
    await auth.post("/api/auth/logout", headers=bearer(logged_out["accessToken"]))
    second = (await refresh(auth, rotated["refreshToken"])).json()
    await refresh(auth, rotated["refreshToken"])  # reuse: the family is revoked

    lost = [key async for key in redis.scan_iter("auth:*")]
    await redis.delete(*lost)  # everything auth kept in Redis, the "loaded" marker included
    async with app_client("board", routes=PROBE) as board:
        # until auth has written the list back, nothing is accepted (fail closed) ...
        r = await board.get("/probe/me", headers=bearer(live["accessToken"]))
        assert r.status_code == 401
        await eventually(lambda: redis.exists(REVOCATIONS_LOADED), equals=1)
        assert await revocations_of(board, "board").sync()  # auth's "reloaded" push is in
        # ... then only what was never revoked
        for pair, status in ((logged_out, 401), (second, 401), (live, 200)):
            r = await board.get("/probe/me", headers=bearer(pair["accessToken"]))
            assert r.status_code == status
    assert (await refresh(auth, second["refreshToken"])).status_code == 401


async def test_test_tokens_exist_only_when_enabled_and_never_in_production(
    auth: Client, open_auth: Callable[..., Any]
) -> None:
    assert (await auth.post("/api/test/token", json={})).status_code == 404
    async with open_auth(test_auth_enabled=True) as enabled:
        r = await enabled.post("/api/test/token", json={"email": "load@example.com"})
        assert r.status_code == 200 and set(r.json()) == {"accessToken", "refreshToken", "userId"}
        assert (await enabled.get("/api/test/status")).json()["testAuthEnabled"] is True
    with pytest.raises(SettingsError, match="TEST_AUTH_ENABLED"):
        async with open_auth(test_auth_enabled=True, profile="production"):
            pass
