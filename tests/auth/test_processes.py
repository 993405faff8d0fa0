"""Auth as a real process: key rotation seen by another service, and logs free of secrets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.auth.conftest import PASSWORD, new_email
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.plugins.oidc_provider import OidcProvider

PROBE = "tests.core.probe:ROUTES"


async def mint_token(auth: ServiceProcess) -> str:
    async with httpx.AsyncClient(base_url=auth.url) as client:
        r = await client.post("/api/test/token", json={"userId": str(uuid.uuid4())})
    assert r.status_code == 200, r.text
    token: str = r.json()["accessToken"]
    return token


@pytest.mark.slow
async def test_rotation_keeps_old_tokens_valid_elsewhere_and_kid_floods_stay_cheap(
    service_process: Callable[..., Any], app_client: Callable[..., Any], issuer: TokenIssuer
) -> None:
    old = issuer.keys[0]
    first = await service_process("auth", env={"WEALIST_AUTH_TEST_AUTH_ENABLED": "true"})
    old_token = await mint_token(first)
    first.stop()

    new = TokenIssuer.new_key("rotated-key-2")
    rotated = await service_process(
        "auth",
        env={
            "WEALIST_AUTH_TEST_AUTH_ENABLED": "true",
            "WEALIST_AUTH_JWT_PRIVATE_KEY": new.private_pem,
            "WEALIST_AUTH_JWT_KEY_ID": new.kid,
            "WEALIST_AUTH_JWT_PREVIOUS_PUBLIC_KEY": old.public_pem.decode(),
            "WEALIST_AUTH_JWT_PREVIOUS_KEY_ID": old.kid,
        },
    )
    new_token = await mint_token(rotated)
    assert jwt.get_unverified_header(new_token)["kid"] == new.kid
    jwks_url = f"{rotated.url}/.well-known/jwks.json"
    async with app_client("board", routes=PROBE, jwks_url=jwks_url) as board:
        for token in (old_token, new_token):
            r = await board.get("/probe/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
        for _ in range(200):  # unknown kids: refused without hammering the JWKS endpoint
            forged = issuer.token(
                key=TokenIssuer.new_key() if _ % 50 == 0 else None,
                headers={"kid": uuid.uuid4().hex},
            )
            r = await board.get("/probe/me", headers={"Authorization": f"Bearer {forged}"})
            assert r.status_code == 401
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{rotated.url}/metrics")).text
    jwks_lines = [
        line
        for line in metrics.splitlines()
        if line.startswith("auth_service_http_requests_total") and "jwks.json" in line
    ]
    fetched = sum(float(line.rsplit(" ", 1)[1]) for line in jwks_lines)
    assert 1 <= fetched <= 2


@pytest.mark.slow
async def test_no_token_password_or_code_reaches_the_logs(
    service_process: Callable[..., Any], oidc_provider: OidcProvider
) -> None:
    user = await service_process("user", env={"WEALIST_LOG_LEVEL": "info"})
    auth = await service_process(
        "auth",
        env={
            "WEALIST_LOG_LEVEL": "info",
            "WEALIST_AUTH_USER_SERVICE_URL": user.url,
            "WEALIST_AUTH_GOOGLE_CLIENT_ID": oidc_provider.client_id,
            "WEALIST_AUTH_GOOGLE_CLIENT_SECRET": oidc_provider.client_secret,
            "WEALIST_AUTH_GOOGLE_ISSUER": oidc_provider.issuer,
            "WEALIST_AUTH_COOKIE_SECURE": "false",
        },
    )
    secrets: list[str] = [PASSWORD, oidc_provider.client_secret]
    email = new_email()
    async with httpx.AsyncClient(base_url=auth.url) as client:
        r = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
        pair = r.json()
        r = await client.post("/api/auth/login", json={"email": email, "password": "wrong pass!"})
        assert r.status_code == 401
        r = await client.post("/api/auth/refresh", json={"refreshToken": pair["refreshToken"]})
        second = r.json()
        await client.post("/api/auth/refresh", json={"refreshToken": pair["refreshToken"]})
        await client.post("/api/auth/validate", json={"token": second["accessToken"]})
        await client.post(
            "/api/auth/logout", headers={"Authorization": f"Bearer {second['accessToken']}"}
        )
        secrets += [pair["accessToken"], pair["refreshToken"], second["accessToken"]]
        secrets += [second["refreshToken"], "wrong pass!"]

        r = await client.get("/oauth2/authorization/google")
        assert r.status_code == 302
        async with httpx.AsyncClient() as browser:
            back = (await browser.get(r.headers["location"])).headers["location"]
        query = parse_qs(urlsplit(back).query)
        secrets += [query["code"][0], query["state"][0]]
        r = await client.get(f"/oauth2/callback/google?{urlsplit(back).query}")
        tokens = parse_qs(urlsplit(r.headers["location"]).fragment)
        secrets += [tokens["accessToken"][0], tokens["refreshToken"][0]]
        replay = await client.get(f"/oauth2/callback/google?{urlsplit(back).query}")
        assert "error=invalid_state" in replay.headers["location"]
    auth.stop()
    user.stop()
    logs = auth.logs() + user.logs()
    assert "auth.refresh_token_reuse" in logs and "auth.oauth_login" in logs  # we did log
    for secret in secrets:
        assert secret not in logs
    assert "eyJ" not in logs  # nothing shaped like a JWT at all


@pytest.mark.slow
async def test_concurrent_refreshes_with_one_token_succeed_at_most_once(
    service_process: Callable[..., Any],
) -> None:
    """The atomic claim (T23): two refreshes racing with the same token, many times over."""
    auth = await service_process("auth", env={"WEALIST_AUTH_TEST_AUTH_ENABLED": "true"})
    async with httpx.AsyncClient(base_url=auth.url) as client:
        for _ in range(100):
            pair = (await client.post("/api/test/token", json={})).json()
            body = {"refreshToken": pair["refreshToken"]}
            first, second = await asyncio.gather(
                client.post("/api/auth/refresh", json=body),
                client.post("/api/auth/refresh", json=body),
            )
            statuses = sorted([first.status_code, second.status_code])
            assert statuses in ([200, 401], [401, 401]), statuses


async def test_advertised_urls_follow_the_port_the_service_listens_on(
    service_process: Callable[..., Any], oidc_provider: OidcProvider
) -> None:
    """Nothing configured but the port: the discovery document's JWKS and the OAuth
    callback name this process's own address, and the JWKS is really there; a public URL,
    when set, wins for both."""
    google = {
        "WEALIST_AUTH_GOOGLE_CLIENT_ID": oidc_provider.client_id,
        "WEALIST_AUTH_GOOGLE_CLIENT_SECRET": oidc_provider.client_secret,
        "WEALIST_AUTH_GOOGLE_ISSUER": oidc_provider.issuer,
    }
    plain = await service_process("auth", env=google)
    assert plain.port != 8080
    async with httpx.AsyncClient(base_url=plain.url) as client:
        config = (await client.get("/.well-known/openid-configuration")).json()
        assert config["jwks_uri"] == f"{plain.url}/.well-known/jwks.json"
        assert (await client.get(config["jwks_uri"])).json()["keys"]
        start = await client.get("/oauth2/authorization/google")
        assert start.status_code == 302, start.text
        sent = parse_qs(urlsplit(start.headers["location"]).query)
        assert sent["redirect_uri"] == [f"{plain.url}/oauth2/callback/google"]
    behind = await service_process(
        "auth", env={**google, "WEALIST_AUTH_PUBLIC_URL": "https://wealist.example.com/"}
    )
    async with httpx.AsyncClient(base_url=behind.url) as client:
        config = (await client.get("/.well-known/openid-configuration")).json()
        assert config["jwks_uri"] == "https://wealist.example.com/.well-known/jwks.json"
        start = await client.get("/oauth2/authorization/google")
        sent = parse_qs(urlsplit(start.headers["location"]).query)
        assert sent["redirect_uri"] == ["https://wealist.example.com/oauth2/callback/google"]
