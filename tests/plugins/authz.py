"""Authorization matrices: each route crossed with actors, every cell's status asserted.

A service's matrix lists :class:`Case` rows; :func:`check_routes_covered` fails when the
app serves a route without a row, and :func:`check_case` runs one row for every actor,
also checking that no actor outside workspace A sees anything of it, and that no actor
sees what the setup marks private to others (another user's notification, session...).
:class:`SocketCase` rows claim WebSocket routes; ``tests/authz/test_system_matrix.py``
checks every service's OpenAPI operations and sockets against the rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.user.support import World

KERNEL_ROUTES = ("/health", "/api/health", "/metrics", "/schema")
OUTSIDERS = frozenset({"outsider", "other_admin", "anonymous"})


@dataclass
class Setup:
    """What a case needs besides the world (a pending request, an uploaded image...)."""

    values: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Any] = field(default_factory=dict)  # name -> Actor, beyond the world's
    # text -> the actors who may see it: nobody else's response may contain it
    private: dict[str, frozenset[str]] = field(default_factory=dict)


# The world is a tests.user.support.World unless the matrix brings its own (auth, ops).
Prepare = Callable[[Any, Any], Awaitable[Setup]]  # (the module's clients, world)
Request = Callable[[Any, Setup], tuple[str, Any, dict[str, str]]]
# After each actor's request: (clients, world, setup, actor name, response), e.g. to check
# that a refused change left the object as it was.
After = Callable[[Any, Any, Setup, str, httpx.Response], Awaitable[None]]


async def nothing(clients: Any, world: World) -> Setup:
    return Setup()


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route's path format, as the app lists it
    expect: tuple[int, ...]  # one status per actor, in the matrix's actor order
    request: Request
    prepare: Prepare = nothing
    fresh: bool = False  # a success changes what the next actor would see
    discloses: bool = False  # a success may name workspace A to an outsider (by design)
    after: After | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


@dataclass(frozen=True)
class SocketCase:
    """A WebSocket route and who may open it (``True``: the handshake is accepted)."""

    route: str  # the route's path format, as the app lists it
    opens: dict[str, bool]  # actor -> accepted
    where: str = ""  # the test that runs the row, when another module does

    @property
    def id(self) -> str:
        return f"WS {self.route}"


def at(path: str, body: Any = None, **headers: str) -> Request:
    """A request to ``path``, formatted with the world's ids and the setup's values
    (``{a}``, ``{b}``, ``{owner}``, ``{member_user}``, plus whatever the setup holds)."""

    def build(world: World, setup: Setup) -> tuple[str, Any, dict[str, str]]:
        values = {
            "a": world.a,
            "b": world.b,
            "owner": world.owner.user_id,
            "member_user": world.member.user_id,
            **setup.values,
        }
        filled = body(values) if callable(body) else body
        return (
            path.format(**values),
            filled,
            {k.replace("_", "-"): v.format(**values) for k, v in headers.items()},
        )

    return build


def check_routes_covered(app: Litestar, cases: list[Case]) -> None:
    served = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute) and not route.path_format.startswith(KERNEL_ROUTES):
            served |= {f"{m} {route.path_format}" for m in route.methods - {"OPTIONS", "HEAD"}}
    assert served == {case.id for case in cases}


def secrets_of_a(world: World) -> tuple[str, ...]:
    return (world.a, "Alpha team", world.owner.email, world.member.email)


def assert_nothing_of_a(world: World, response: httpx.Response) -> None:
    for secret in secrets_of_a(world):
        assert secret not in response.text, response.text


def assert_private(setup: Setup, name: str, response: httpx.Response) -> None:
    for secret, seen_by in setup.private.items():
        assert name in seen_by or secret not in response.text, (name, secret, response.text)


async def check_case(  # a cell needs all of these
    client: Any,
    case: Case,
    *,
    actors: tuple[str, ...],
    new_world: Callable[[], Awaitable[Any]],
    clients: Any,
    outsiders: frozenset[str] = OUTSIDERS,
    secrets: Callable[[Any], tuple[str, ...]] = secrets_of_a,
    error_keys: frozenset[str] = frozenset({"error", "requestId"}),
) -> None:
    """Run ``case`` for each actor (a fresh world per actor when ``case.fresh``).

    ``outsiders`` see none of ``secrets(world)`` (unless the case ``discloses``); every
    actor sees nothing ``setup.private`` keeps from it; a refusal carries ``error_keys``
    (the service's error envelope)."""
    world = await new_world()
    setup = await case.prepare(clients, world)
    got: dict[str, int] = {}
    for name in actors:
        if case.fresh:
            world = await new_world()
            setup = await case.prepare(clients, world)
        actor = setup.actors.get(name) or world.actors()[name]
        path, body, headers = case.request(world, setup)
        response = await client.request(
            case.method,
            path,
            json=body,
            headers={**actor.headers, **headers},
            follow_redirects=False,
        )
        got[name] = response.status_code
        if name in outsiders and not (case.discloses and response.status_code < 300):
            for secret in secrets(world):
                assert secret not in response.text, (name, response.text)
        assert_private(setup, name, response)
        if response.status_code >= 400:
            assert set(response.json()) >= error_keys, response.text
        if case.after is not None:
            await case.after(clients, world, setup, name, response)
    assert got == dict(zip(actors, case.expect, strict=True)), got
