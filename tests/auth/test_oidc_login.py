"""The whole OIDC (Google) login against a provider served over real HTTP in the test."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from tests.auth.conftest import FRONTEND, Client
from tests.plugins.oidc_provider import OidcProvider, OidcUser

START = "/oauth2/authorization/google"


async def consent(authorize_url: str) -> str:
    """The provider's redirect back to us (it consents at once as ``provider.user``)."""
    async with httpx.AsyncClient() as browser:
        r = await browser.get(authorize_url)
    assert r.status_code == 302, r.text
    return r.headers["location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def outcome(location: str) -> dict[str, str]:
    """Tokens from the fragment of a successful redirect, or the ``error`` of a failed one."""
    parts = urlsplit(location)
    if parts.fragment:
        return {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


async def login(auth: Client, redirect_uri: str | None = FRONTEND) -> str:
    """Start, consent, call back; the final Location."""
    params = {"redirect_uri": redirect_uri} if redirect_uri else {}
    r = await auth.get(START, params=params, follow_redirects=False)
    assert r.status_code == 302, r.text
    back = await consent(r.headers["location"])
    r = await auth.get(callback_path(back), follow_redirects=False)
    assert r.status_code == 302
    return str(r.headers["location"])


async def test_google_login_succeeds_with_pkce_and_returns_tokens_in_the_fragment(
    auth: Client, oidc_provider: OidcProvider
) -> None:
    location = await login(auth)
    assert location.startswith(FRONTEND + "#")
    tokens = outcome(location)
    assert set(tokens) == {"accessToken", "refreshToken", "userId"}
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["email"] == oidc_provider.user.email and claims["type"] == "access"

    [asked] = oidc_provider.authorize_requests
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == "http://testserver.local/oauth2/callback/google"
    [exchanged] = oidc_provider.token_requests
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(exchanged["code_verifier"].encode()).digest()
    )
    assert asked["code_challenge"] == expected.rstrip(b"=").decode()

    # the same (issuer, subject) with a changed email is the same account
    oidc_provider.user = OidcUser(oidc_provider.user.sub, "renamed@example.com")
    again = outcome(await login(auth))
    assert again["userId"] == tokens["userId"]


async def test_query_delivery_is_a_setting(
    open_auth: Callable[..., Any], oidc_provider: OidcProvider
) -> None:
    async with open_auth(oauth_return_mode="query") as auth:
        location = await login(auth)
    assert location.startswith(FRONTEND + "?accessToken=")


async def test_wrong_state_and_replayed_state_are_refused(
    auth: Client, oidc_provider: OidcProvider
) -> None:
    r = await auth.get(START, params={"redirect_uri": FRONTEND}, follow_redirects=False)
    back = await consent(r.headers["location"])
    forged = back.replace("state=", "state=x")
    r = await auth.get(callback_path(forged), follow_redirects=False)
    assert outcome(r.headers["location"]) == {"error": "invalid_state"}

    r = await auth.get(callback_path(back), follow_redirects=False)  # the real one still works once
    assert "accessToken" in outcome(r.headers["location"])
    r = await auth.get(callback_path(back), follow_redirects=False)  # ... and only once
    assert outcome(r.headers["location"]) == {"error": "invalid_state"}
    assert len(oidc_provider.token_requests) == 1  # refused before any code exchange


async def test_state_from_another_browser_is_refused(
    auth: Client, oidc_provider: OidcProvider
) -> None:
    r = await auth.get(START, params={"redirect_uri": FRONTEND}, follow_redirects=False)
    back = await consent(r.headers["location"])
    auth.cookies.clear()  # the callback arrives in a browser that did not start the login
    r = await auth.get(callback_path(back), follow_redirects=False)
    assert outcome(r.headers["location"]) == {"error": "state_from_another_browser"}


async def test_wrong_nonce_and_foreign_audience_are_refused(
    auth: Client, oidc_provider: OidcProvider
) -> None:
    oidc_provider.id_token_overrides = {"nonce": "not-the-one-we-sent"}
    assert outcome(await login(auth)) == {"error": "wrong_nonce"}
    oidc_provider.id_token_overrides = {"aud": "some-other-client"}
    assert outcome(await login(auth)) == {"error": "wrong_audience"}
    oidc_provider.id_token_overrides = {"iss": "https://evil.example"}
    assert outcome(await login(auth)) == {"error": "invalid_id_token"}
    oidc_provider.id_token_overrides = {"exp": 1_000_000}
    assert outcome(await login(auth)) == {"error": "invalid_id_token"}


async def test_unverified_email_never_links(auth: Client, oidc_provider: OidcProvider) -> None:
    oidc_provider.user = OidcUser("someone-new", "victim@example.com", email_verified=False)
    assert outcome(await login(auth)) == {"error": "email_not_verified"}


async def test_redirect_uri_must_match_exactly(auth: Client, oidc_provider: OidcProvider) -> None:
    for uri in (FRONTEND + ".evil.example", FRONTEND + "/../../x", "https://evil.example/"):
        r = await auth.get(START, params={"redirect_uri": uri}, follow_redirects=False)
        assert r.status_code == 400, uri
        assert r.json()["code"] == "VALIDATION_ERROR"
    assert oidc_provider.authorize_requests == []


async def test_unknown_provider_is_404(auth: Client) -> None:
    assert (await auth.get("/oauth2/authorization/myspace")).status_code == 404
