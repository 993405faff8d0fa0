"""Fixtures of the auth service tests: the app in-process, talking to a real user service
process and to a fake OIDC provider served over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import ServiceProcess
from tests.plugins.oidc_provider import OidcProvider

FRONTEND = "http://localhost:3000/oauth/callback"
PASSWORD = "correct horse battery staple"

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def user_service(service_process: Callable[..., Any]) -> ServiceProcess:
    found: ServiceProcess = await service_process("user")
    return found


@pytest.fixture
def open_auth(
    app_client: Callable[..., Any], user_service: ServiceProcess, oidc_provider: OidcProvider
) -> Callable[..., Any]:
    """``async with open_auth(**settings) as client``: auth in-process, wired to the others."""

    @asynccontextmanager
    async def opened(**overrides: Any) -> AsyncIterator[Client]:
        settings: dict[str, Any] = {
            "user_service_url": user_service.url,
            "google_client_id": oidc_provider.client_id,
            "google_client_secret": oidc_provider.client_secret,
            "google_issuer": oidc_provider.issuer,
            "oauth_callback_url": "http://testserver.local/oauth2/callback/{provider}",
            "oauth_redirect_allowlist": [FRONTEND],
            "oauth_default_redirect": FRONTEND,
            "oauth_failure_redirect": "http://localhost:3000/login",
            # every in-process request comes from one peer; throttling has its own tests
            "signup_ip_limit_per_min": 10_000,
            "login_ip_limit_per_min": 10_000,
        }
        settings.update(overrides)
        async with app_client("auth", **settings) as client:
            yield client

    return opened


@pytest.fixture
async def auth(open_auth: Callable[..., Any]) -> AsyncIterator[Client]:
    async with open_auth() as client:
        yield client


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signup(client: Client, email: str | None = None) -> dict[str, str]:
    r = await client.post(
        "/api/auth/signup", json={"email": email or new_email(), "password": PASSWORD}
    )
    assert r.status_code == 201, r.text
    pair: dict[str, str] = r.json()
    return pair
