"""Authorization matrices: each route crossed with actors, every cell's status asserted.

A service's matrix lists :class:`Case` rows; :func:`check_routes_covered` fails when the
app serves a route without a row, and :func:`check_case` runs one row for every actor,
also checking that no actor outside workspace A sees anything of it, and that no actor
sees what the setup marks private to others (another user's notification, session...).

A refused write changes nothing: every row of a mutating method (POST, PUT, PATCH, DELETE)
that some actor is refused (4xx) names its ``state``, a reader of what the write would
change (through the API as a privileged actor, see :func:`api`, or the service's own rows
where no API shows them). It is read before and after each refused actor's request and
must be equal; a mutating row without a reader fails before any request
(:func:`require_state`), so no new row can forget it.
:class:`SocketCase` rows claim WebSocket routes; ``tests/authz/test_system_matrix.py``
checks every service's OpenAPI operations and sockets against the rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.user.support import World

KERNEL_ROUTES = ("/health", "/api/health", "/metrics", "/schema")
OUTSIDERS = frozenset({"outsider", "other_admin", "anonymous"})
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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
class Stage:
    """What a state reader sees: the app under test, the module's clients (as ``prepare``
    gets them), the world and the setup."""

    client: Any
    clients: Any
    world: Any
    setup: Setup

    def actor(self, name: str) -> Any:
        return self.setup.actors.get(name) or self.world.actors()[name]

    def fill(self, text: str) -> str:
        return text.format(**values_of(self.world, self.setup))


# What a refused write must leave as it was: any value compared with ==.
State = Callable[[Stage], Awaitable[Any]]


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
    state: State | None = None  # a mutating row's: unchanged after every refused request
    note: str = ""  # tells apart rows of one route (another object, another author)

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def label(self) -> str:
        """The test id: the route's, and the note when one route has several rows."""
        return f"{self.id} ({self.note})" if self.note else self.id


@dataclass(frozen=True)
class SocketCase:
    """A WebSocket route and who may open it (``True``: the handshake is accepted)."""

    route: str  # the route's path format, as the app lists it
    opens: dict[str, bool]  # actor -> accepted
    where: str = ""  # the test that runs the row, when another module does

    @property
    def id(self) -> str:
        return f"WS {self.route}"


def values_of(world: Any, setup: Setup) -> dict[str, str]:
    """What paths are formatted with: a :class:`World`'s ids (``{a}``, ``{b}``, ``{owner}``,
    ``{member_user}``) when the world is one, plus whatever the setup holds."""
    found = {}
    if isinstance(world, World):
        found = {
            "a": world.a,
            "b": world.b,
            "owner": world.owner.user_id,
            "member_user": world.member.user_id,
        }
    return {**found, **setup.values}


def at(path: str, body: Any = None, **headers: str) -> Request:
    """A request to ``path``, formatted with the world's ids and the setup's values
    (``{a}``, ``{b}``, ``{owner}``, ``{member_user}``, plus whatever the setup holds, and
    ``{actor}``: the name of who sends it)."""

    def build(world: World, setup: Setup) -> tuple[str, Any, dict[str, str]]:
        values = values_of(world, setup)
        filled = body(values) if callable(body) else body
        return (
            path.format(**values),
            filled,
            {k.replace("_", "-"): v.format(**values) for k, v in headers.items()},
        )

    return build


def api(
    *paths: str,
    by: str = "owner",
    keep: Callable[[Any], Any] | None = None,
    client: Callable[[Stage], Any] | None = None,
    **headers: str,
) -> State:
    """State read through the API: a GET of each of ``paths`` (formatted like :func:`at`)
    as actor ``by``; each gives its status and, when answered, its JSON body without the
    envelope's ``requestId`` (``keep(body)`` when given: the part that matters, or without
    what changes on every read). ``client``: where to send them, when not the app under
    test (another service)."""

    async def read(stage: Stage) -> Any:
        who = stage.actor(by)
        to = stage.client if client is None else client(stage)
        extra = {k.replace("_", "-"): stage.fill(v) for k, v in headers.items()}
        found = []
        for path in paths:
            response = await to.get(stage.fill(path), headers={**who.headers, **extra})
            body = None  # a refusal: its status says it (its envelope's request id changes)
            if response.status_code < 400 and response.content:
                body = response.json()
                if isinstance(body, dict):
                    body.pop("requestId", None)
                body = keep(body) if keep is not None else body
            found.append((path, response.status_code, body))
        return found

    return read


def stores_nothing(why: str) -> State:
    """The state of a write route that keeps nothing (a presigned URL is signed, not
    stored): the row says why, rather than forgetting its reader."""

    async def read(stage: Stage) -> Any:
        return why

    return read


def require_state(case_id: str, method: str, expect: tuple[int, ...], state: object) -> None:
    """A write that some actor is refused names what it must leave unchanged."""
    if method in MUTATING and any(400 <= s < 500 for s in expect) and state is None:
        raise AssertionError(
            f"{case_id}: a write refused to some actor needs a state reader (state=...): what"
            " it would change, read before and after each refusal"
        )


async def check_unchanged(
    state: State, stage: Stage, before: Any, name: str, response: httpx.Response
) -> None:
    after = await state(stage)
    assert after == before, (
        f"refused {name} ({response.status_code}) but the state changed",
        before,
        after,
        response.text,
    )


def refusals(actors: tuple[str, ...], expect: tuple[int, ...]) -> Mapping[str, bool]:
    """Which actors the row refuses (4xx): their requests must change nothing."""
    return {a: 400 <= s < 500 for a, s in zip(actors, expect, strict=True)}


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
    (the service's error envelope); a refused write leaves ``case.state`` as it was."""
    require_state(case.id, case.method, case.expect, case.state)
    refused = refusals(actors, case.expect)
    world = await new_world()
    setup = await case.prepare(clients, world)
    if case.state is not None:  # a reader that changes by itself would prove nothing
        stage = Stage(client, clients, world, setup)
        first = await case.state(stage)
        assert await case.state(stage) == first, f"{case.id}: its state reader is not stable"
    got: dict[str, int] = {}
    for name in actors:
        if case.fresh:
            world = await new_world()
            setup = await case.prepare(clients, world)
        actor = setup.actors.get(name) or world.actors()[name]
        # ``{actor}`` names who sends it: a write carrying it changes what it touches even
        # when an earlier actor wrote the same thing
        path, body, headers = case.request(
            world, replace(setup, values={**setup.values, "actor": name})
        )
        stage = Stage(client, clients, world, setup)
        watch = case.state if case.method in MUTATING and refused[name] else None
        before = await watch(stage) if watch is not None else None
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
        if watch is not None and 400 <= response.status_code < 500:
            await check_unchanged(watch, stage, before, name, response)
        if case.after is not None:
            await case.after(clients, world, setup, name, response)
    assert got == dict(zip(actors, case.expect, strict=True)), got
