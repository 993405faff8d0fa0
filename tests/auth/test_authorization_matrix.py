"""Every auth route crossed with {the owner of session S1, the same user in session S2,
another user, anonymous, the internal key without a user token}: each cell's status is
asserted.

Policy: a session is its user's. Listing shows the caller's own sessions only; another
user's session id is simply not found (404) and stays alive; logging out or ending "the
other sessions" touches the caller's user alone. Credentials, refresh tokens and tokens to
validate are the permission of their routes (the bearer sent along changes nothing, and
what comes back is the credential's user, never the bearer's). The keys, the discovery
document, readiness and the OAuth redirects are public; a forged OAuth callback never
yields tokens. No response to another user, anonymous or the internal key carries the
owner's id, email or session ids. A refused write ends no session (each write row's
``state``: which sessions' tokens still validate). A route without a row fails
``test_every_route_has_a_row``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.authz.support import in_process, running
from tests.plugins.authz import Case, Setup, Stage, check_case, check_routes_covered
from tests.plugins.harness import INTERNAL_KEY, Environment
from tests.plugins.oidc_provider import OidcProvider

Client = AsyncTestClient[Litestar]
ACTORS = ("owner", "owner_other_session", "other_user", "anonymous", "internal_key")
OUTSIDERS = frozenset({"other_user", "anonymous", "internal_key"})
PASSWORD = "correct horse battery staple"
FRONTEND = "http://localhost:3000/oauth/callback"
FAILURE = "http://localhost:3000/login"

PUBLIC = (200,) * 5
SIGNED_IN = (200, 200, 200, 401, 401)


@dataclass
class Who:
    name: str
    headers: dict[str, str]


@dataclass
class AuthWorld:
    """One user signed up (session S1) and signed in again (S2); another user (S3)."""

    email: str
    user_id: str
    s1: dict[str, str]  # the token pair of session S1
    s2: dict[str, str]
    s3: dict[str, str]
    sessions: dict[str, str]  # "s1", "s2", "s3" -> session id

    def actors(self) -> dict[str, Who]:
        return {
            "owner": Who("owner", bearer(self.s1["accessToken"])),
            "owner_other_session": Who("owner_other_session", bearer(self.s2["accessToken"])),
            "other_user": Who("other_user", bearer(self.s3["accessToken"])),
            "anonymous": Who("anonymous", {}),
            "internal_key": Who("internal_key", {"x-internal-api-key": INTERNAL_KEY}),
        }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def secrets(world: AuthWorld) -> tuple[str, ...]:
    return (world.user_id, world.email, world.sessions["s1"], world.sessions["s2"])


def new_email() -> str:
    return f"authz-{uuid.uuid4().hex[:12]}@example.com"


async def sign_up(auth: Any, email: str) -> dict[str, str]:
    made = await auth.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    pair: dict[str, str] = made.json()
    return pair


async def current_session(auth: Any, pair: dict[str, str]) -> str:
    listed = await auth.get("/api/auth/sessions", headers=bearer(pair["accessToken"]))
    assert listed.status_code == 200, listed.text
    return next(str(s["id"]) for s in listed.json() if s["current"])


async def new_world(auth: Any) -> AuthWorld:
    email = new_email()
    s1 = await sign_up(auth, email)
    signed_in = await auth.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    s2 = signed_in.json()
    s3 = await sign_up(auth, new_email())
    sessions = {
        name: await current_session(auth, pair)
        for name, pair in (("s1", s1), ("s2", s2), ("s3", s3))
    }
    return AuthWorld(email, s1["userId"], s1, s2, s3, sessions)


async def private_sessions(clients: Any, world: AuthWorld) -> Setup:
    owner = frozenset({"owner", "owner_other_session"})
    return Setup(
        private={
            world.sessions["s1"]: owner,
            world.sessions["s2"]: owner,
            world.sessions["s3"]: frozenset({"other_user"}),
        }
    )


def request(path: str, body: Any = None) -> Any:
    """A request to ``path`` with ``body(world)`` (or ``body``), both formatted lazily."""

    def build(world: AuthWorld, setup: Setup) -> tuple[str, Any, dict[str, str]]:
        return (
            path.format(**world.sessions),
            body(world) if callable(body) else body,
            {},
        )

    return build


async def alive(auth: Any, world: AuthWorld) -> dict[str, bool]:
    """Which of the world's sessions still stand: their access tokens still validate."""
    found = {}
    for name in ("s1", "s2", "s3"):
        access = getattr(world, name)["accessToken"]
        checked = await auth.post("/api/auth/validate", json={"token": access})
        assert checked.status_code == 200, checked.text
        found[name] = checked.json()["valid"]
    return found


async def sessions(stage: Stage) -> dict[str, bool]:
    return await alive(stage.client, stage.world)


def sessions_after(ended: dict[str, set[str]]) -> Any:
    """After each actor: exactly the sessions ``ended[actor]`` are gone, the rest stand."""

    async def check(
        clients: Any, world: AuthWorld, setup: Setup, name: str, response: httpx.Response
    ) -> None:
        gone = ended.get(name, set())
        assert await alive(clients, world) == {s: s not in gone for s in ("s1", "s2", "s3")}, name

    return check


async def tokens_of_the_owner(
    clients: Any, world: AuthWorld, setup: Setup, name: str, response: httpx.Response
) -> None:
    assert response.json()["userId"] == world.user_id, name


async def never_tokens(
    clients: Any, world: AuthWorld, setup: Setup, name: str, response: httpx.Response
) -> None:
    location = response.headers["location"]
    assert location.startswith(FAILURE) and "Token" not in location, (name, location)


def row(
    method: str, route: str, expect: tuple[int, ...], path: str = "", body: Any = None, **kw: Any
) -> Case:
    kw.setdefault("prepare", private_sessions)
    return Case(method, route, expect, request(path or route, body), **kw)


CASES = [
    row("GET", "/.well-known/jwks.json", PUBLIC),
    row("GET", "/.well-known/openid-configuration", PUBLIC),
    row("GET", "/ready", PUBLIC),
    row(
        "POST",
        "/api/auth/signup",
        (201,) * 5,
        body=lambda w: {"email": new_email(), "password": PASSWORD},
    ),
    row(
        "POST",
        "/api/auth/login",
        PUBLIC,
        body=lambda w: {"email": w.email, "password": PASSWORD},
        discloses=True,  # the password is the permission
        after=tokens_of_the_owner,
    ),
    row(
        "POST",
        "/api/auth/refresh",
        PUBLIC,
        body=lambda w: {"refreshToken": w.s2["refreshToken"]},
        discloses=True,  # the refresh token is the permission
        after=tokens_of_the_owner,
        fresh=True,  # rotation: presenting it again is reuse
    ),
    row(
        "POST",
        "/api/auth/validate",
        PUBLIC,
        body=lambda w: {"token": w.s1["accessToken"]},
        discloses=True,  # whoever holds a token may learn whose it is
    ),
    row(
        "POST",
        "/api/auth/logout",
        SIGNED_IN,
        after=sessions_after(
            {"owner": {"s1"}, "owner_other_session": {"s2"}, "other_user": {"s3"}}
        ),
        fresh=True,
        state=sessions,
    ),
    row("GET", "/api/auth/sessions", SIGNED_IN),
    row(  # for one's own token; without one there is no one to mint it for
        "POST", "/api/auth/socket-ticket", (201, 201, 201, 401, 401), state=sessions
    ),
    row(
        "DELETE",
        "/api/auth/sessions/{session_id}",
        (204, 204, 404, 401, 401),
        "/api/auth/sessions/{s2}",
        after=sessions_after({"owner": {"s2"}, "owner_other_session": {"s2"}}),
        fresh=True,
        state=sessions,
    ),
    row(
        "POST",
        "/api/auth/sessions/revoke-others",
        SIGNED_IN,
        after=sessions_after({"owner": {"s2"}, "owner_other_session": {"s1"}}),
        fresh=True,
        state=sessions,
    ),
    row(
        "GET",
        "/oauth2/authorization/{provider}",
        (302,) * 5,
        f"/oauth2/authorization/google?redirect_uri={FRONTEND}",
    ),
    row(  # a forged callback: no state this browser started
        "GET",
        "/oauth2/callback/{provider}",
        (302,) * 5,
        "/oauth2/callback/google?code=stolen&state=forged",
        after=never_tokens,
    ),
]


@pytest.fixture(scope="module")
async def matrix_auth(
    environment: Environment,
    tmp_path_factory: pytest.TempPathFactory,
    oidc_provider_server: OidcProvider,
) -> AsyncIterator[Client]:
    log_dir = tmp_path_factory.mktemp("auth-matrix")
    async with (
        running(environment, "user", log_dir) as users,
        in_process(
            environment,
            "auth",
            user_service_url=users.url,
            google_client_id=oidc_provider_server.client_id,
            google_client_secret=oidc_provider_server.client_secret,
            google_issuer=oidc_provider_server.issuer,
            oauth_callback_url="http://testserver.local/oauth2/callback/{provider}",
            oauth_redirect_allowlist=[FRONTEND],
            oauth_default_redirect=FRONTEND,
            oauth_failure_redirect=FAILURE,
            signup_ip_limit_per_min=10_000,
            login_ip_limit_per_min=10_000,
        ) as opened,
    ):
        yield opened


async def test_every_route_has_a_row(matrix_auth: Client) -> None:
    check_routes_covered(matrix_auth.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(matrix_auth: Client, case: Case) -> None:
    await check_case(
        matrix_auth,
        case,
        actors=ACTORS,
        new_world=lambda: new_world(matrix_auth),
        clients=matrix_auth,
        outsiders=OUTSIDERS,
        secrets=secrets,
        error_keys=frozenset({"code", "message", "requestId"}),
    )
