"""The fake OIDC provider behaves like a strict real one, so login tests built on it mean
something: discovery, a PKCE code flow whose ID token verifies against the JWKS, and the
refusals (reused code, wrong verifier, redirect_uri or secret) a real provider makes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from tests.plugins.oidc_provider import OidcProvider, OidcUser, pkce_challenge

REDIRECT = "http://app.test/auth/callback?next=%2Fboards"


@pytest.fixture
def http(oidc_provider: OidcProvider) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=oidc_provider.issuer, follow_redirects=False) as client:
        yield client


def authorize(http: httpx.Client, provider: OidcProvider, **extra: str) -> tuple[str, str]:
    """Run ``/authorize`` with a PKCE S256 challenge; returns ``(code, verifier)``."""
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "nonce": "n-1",
        "scope": "openid email profile",
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    response = http.get("/authorize", params=params)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0], verifier


def exchange(
    http: httpx.Client, provider: OidcProvider, code: str, verifier: str, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        **extra,
    }
    return http.post("/token", data=form)


def verify(
    http: httpx.Client, provider: OidcProvider, id_token: str, *, verify_aud: bool = True
) -> Any:
    """Verify ``id_token`` the way a relying party does: key by ``kid`` from the JWKS."""
    kid = jwt.get_unverified_header(id_token)["kid"]
    jwk = next(k for k in http.get("/jwks").json()["keys"] if k["kid"] == kid)
    key = RSAAlgorithm.from_jwk(jwk)
    return jwt.decode(
        id_token,
        key,  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
        options={"verify_aud": verify_aud},
    )


def test_discovery_points_at_the_provider(http: httpx.Client, oidc_provider: OidcProvider) -> None:
    doc = http.get("/.well-known/openid-configuration").json()
    issuer = oidc_provider.issuer
    assert doc["issuer"] == issuer
    assert doc["authorization_endpoint"] == f"{issuer}/authorize"
    assert doc["token_endpoint"] == f"{issuer}/token"
    assert doc["jwks_uri"] == f"{issuer}/jwks"
    assert doc["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert doc["code_challenge_methods_supported"] == ["S256", "plain"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert oidc_provider.discovery_hits == 1


def test_code_flow_issues_a_verifiable_id_token(
    http: httpx.Client, oidc_provider: OidcProvider
) -> None:
    oidc_provider.user = OidcUser(sub="g-42", email="ada@example.com", name="Ada")
    code, verifier = authorize(http, oidc_provider)
    assert oidc_provider.authorize_requests[0]["redirect_uri"] == REDIRECT

    response = exchange(http, oidc_provider, code, verifier)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    claims = verify(http, oidc_provider, body["id_token"])
    assert claims["sub"] == "g-42"
    assert claims["email"] == "ada@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Ada"
    assert claims["nonce"] == "n-1"
    assert claims["azp"] == oidc_provider.client_id
    assert claims["exp"] - claims["iat"] == 3600
    assert oidc_provider.token_requests[0]["code_verifier"] == verifier


def test_redirect_keeps_the_callbacks_own_query(
    http: httpx.Client, oidc_provider: OidcProvider
) -> None:
    verifier = secrets.token_urlsafe(48)
    response = http.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": oidc_provider.client_id,
            "redirect_uri": REDIRECT,
            "state": "s",
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "http",
        "app.test",
        "/auth/callback",
    )
    assert parse_qs(location.query)["next"] == ["/boards"]


def test_invalid_authorize_request_is_not_redirected(
    http: httpx.Client, oidc_provider: OidcProvider
) -> None:
    params = {
        "response_type": "code",
        "client_id": "stranger",
        "redirect_uri": REDIRECT,
        "state": "s",
    }
    response = http.get("/authorize", params=params)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_client_secret_basic_is_accepted(http: httpx.Client, oidc_provider: OidcProvider) -> None:
    code, verifier = authorize(http, oidc_provider)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    auth = (oidc_provider.client_id, oidc_provider.client_secret)
    assert http.post("/token", data=form, auth=auth).status_code == 200


def test_a_code_is_single_use(http: httpx.Client, oidc_provider: OidcProvider) -> None:
    code, verifier = authorize(http, oidc_provider)
    assert exchange(http, oidc_provider, code, verifier).status_code == 200
    again = exchange(http, oidc_provider, code, verifier)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_wrong_verifier_is_refused_and_burns_the_code(
    http: httpx.Client, oidc_provider: OidcProvider
) -> None:
    code, verifier = authorize(http, oidc_provider)
    wrong = exchange(http, oidc_provider, code, secrets.token_urlsafe(48))
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    assert exchange(http, oidc_provider, code, verifier).status_code == 400


def test_wrong_redirect_uri_is_refused(http: httpx.Client, oidc_provider: OidcProvider) -> None:
    code, verifier = authorize(http, oidc_provider)
    response = exchange(http, oidc_provider, code, verifier, redirect_uri="http://app.test/other")
    assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})


def test_wrong_client_secret_is_refused(http: httpx.Client, oidc_provider: OidcProvider) -> None:
    code, verifier = authorize(http, oidc_provider)
    response = exchange(http, oidc_provider, code, verifier, client_secret="guess")
    assert (response.status_code, response.json()) == (401, {"error": "invalid_client"})


def test_overrides_change_and_remove_claims(
    http: httpx.Client, oidc_provider: OidcProvider
) -> None:
    oidc_provider.id_token_overrides = {"aud": "someone-else", "nonce": None}
    code, verifier = authorize(http, oidc_provider)
    id_token = exchange(http, oidc_provider, code, verifier).json()["id_token"]
    with pytest.raises(jwt.InvalidAudienceError):
        verify(http, oidc_provider, id_token)
    claims = verify(http, oidc_provider, id_token, verify_aud=False)
    assert claims["aud"] == "someone-else"
    assert "nonce" not in claims


def test_userinfo_needs_the_issued_access_token(
    http: httpx.Client, oidc_provider: OidcProvider
) -> None:
    code, verifier = authorize(http, oidc_provider)
    token = exchange(http, oidc_provider, code, verifier).json()["access_token"]
    info = http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert info.json() == {
        "sub": oidc_provider.user.sub,
        "email": oidc_provider.user.email,
        "email_verified": True,
        "name": "Test User",
    }
    refused = http.get("/userinfo", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401


def test_reset_forgets_the_previous_test(oidc_provider: OidcProvider) -> None:
    before = oidc_provider.user
    oidc_provider.id_token_overrides["aud"] = "x"
    oidc_provider.reset()
    assert oidc_provider.id_token_overrides == {}
    assert oidc_provider.user != before
