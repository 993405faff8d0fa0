"""Authorization matrices: each route crossed with actors, every cell's status asserted.

A service's matrix lists :class:`Case` rows; :func:`check_routes_covered` fails when the
app serves a route without a row, and :func:`check_case` runs one row for every actor,
also checking that no actor outside workspace A sees anything of it.
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


Prepare = Callable[[Any, World], Awaitable[Setup]]  # (the module's clients, world)
Request = Callable[[World, Setup], tuple[str, Any, dict[str, str]]]


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

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


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


def assert_nothing_of_a(world: World, response: httpx.Response) -> None:
    for secret in (world.a, "Alpha team", world.owner.email, world.member.email):
        assert secret not in response.text, response.text


async def check_case(  # a cell needs all of these
    client: Any,
    case: Case,
    *,
    actors: tuple[str, ...],
    new_world: Callable[[], Awaitable[World]],
    clients: Any,
) -> None:
    """Run ``case`` for each actor (a fresh world per actor when ``case.fresh``)."""
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
        if name in OUTSIDERS and not (case.discloses and response.status_code < 300):
            assert_nothing_of_a(world, response)
        if response.status_code >= 400:
            assert set(response.json()) >= {"error", "requestId"}, response.text
    assert got == dict(zip(actors, case.expect, strict=True)), got
