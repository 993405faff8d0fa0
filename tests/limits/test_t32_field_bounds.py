"""T32: schema field bounds, found by reflection.

Every msgspec Struct reachable from a request body of any route of any service (and the
chat and presence sockets' client frames) is walked with ``msgspec.inspect``: each str
and bytes has a ``max_length`` (or an anchored pattern of bounded width), each list,
set and dict a ``max_length``, each int both bounds within int64. What is not bounded
that way is in ``EXEMPT`` with the reason. Then one over-long value per service is sent
to the real process: 400 in the service's envelope, nothing stored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import msgspec
import msgspec.inspect as mi
import pytest
from litestar.params import BodyKwarg
from litestar.routes import HTTPRoute

from tests.core.test_errors import error_of
from tests.limits.support import WRITE_ROUTES, WriteRoute, headers_for, row_counts, warm_up
from tests.plugins.harness import Environment, ServiceProcess, TokenIssuer
from wealist.chat.frames import ClientFrame, PresenceFrame
from wealist.core.app import build_app
from wealist.services import SERVICES, spec

INT64 = 2**63 - 1

# field path (or a prefix of one) -> why it has no bound of its own
EXEMPT = {
    "noti.NotificationEvent.metadata": (
        "free-form JSON of the producer (contract 7.1); __post_init__ bounds its encoded"
        " size to METADATA_MAX_BYTES (8 KiB); internal-key route only"
    ),
}

# Not walked: the kernel's POST /api/internal/events/<svc> reads the raw body (internal
# key only, our own outboxes' envelopes, at most the 1 MiB body limit), and the board
# socket decodes dict[str, Any] frames capped at 4 KiB (clients only send pings).


def _pattern_width(pattern: str) -> int | None:
    """The most characters a fully anchored pattern can match, else None."""
    anchored = pattern.startswith(("^", r"\A")) and pattern.endswith(("$", r"\Z"))
    if not anchored:
        return None
    parser: Any = getattr(re, "_parser")  # noqa: B009  # sre_parse, without its deprecation
    width = parser.parse(pattern).getwidth()[1]
    return None if width >= parser.MAXREPEAT else int(width) + 1  # "$" allows a final "\n"


def unbounded(t: mi.Type, path: str, seen: set[type]) -> Iterator[tuple[str, str]]:
    """(field path, what is missing) for every unbounded value inside ``t``."""
    if isinstance(t, mi.Metadata):
        yield from unbounded(t.type, path, seen)
    elif isinstance(t, mi.StructType):
        if t.cls in seen:
            return
        seen.add(t.cls)
        owner = f"{t.cls.__module__.split('.')[1]}.{t.cls.__name__}"
        for field in t.fields:
            yield from unbounded(field.type, f"{owner}.{field.name}", seen)
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            yield from unbounded(member, path, seen)
    elif isinstance(t, mi.StrType):
        if t.max_length is None and (t.pattern is None or _pattern_width(t.pattern) is None):
            yield path, "str without max_length"
    elif isinstance(t, mi.BytesType | mi.ByteArrayType | mi.MemoryViewType):
        if t.max_length is None:
            yield path, "bytes without max_length"
    elif isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        if t.max_length is None:
            yield path, f"{type(t).__name__} without max_length"
        yield from unbounded(t.item_type, f"{path}[]", seen)
    elif isinstance(t, mi.DictType):
        if t.max_length is None:
            yield path, "dict without max_length"
        yield from unbounded(t.key_type, f"{path}{{key}}", seen)
        yield from unbounded(t.value_type, f"{path}{{value}}", seen)
    elif isinstance(t, mi.TupleType):
        for item in t.item_types:
            yield from unbounded(item, path, seen)
    elif isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else t.gt
        high = t.le if t.le is not None else t.lt
        if low is None or high is None or low < -INT64 - 1 or high > INT64:
            yield path, f"int without a sane range (ge={t.ge} gt={t.gt} le={t.le} lt={t.lt})"
    elif isinstance(t, mi.FloatType):
        if (t.ge is None and t.gt is None) or (t.le is None and t.lt is None):
            yield path, "float without both bounds"
    elif isinstance(t, mi.AnyType | mi.RawType):
        yield path, "any JSON value"


@functools.cache
def request_bodies() -> dict[str, list[tuple[str, Any]]]:
    """service -> (route, body type) of every route with a body (every app built once)."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for name in SERVICES:
        service = spec(name)
        app = build_app(service, service.settings(), configure_logs=False)
        bodies = found.setdefault(name, [])
        for route in app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            for handler in route.route_handlers:
                for param, field in handler.parsed_fn_signature.parameters.items():
                    if param == "data" or isinstance(field.kwarg_definition, BodyKwarg):
                        methods = ",".join(sorted(handler.http_methods))
                        bodies.append((f"{methods} {route.path}", field.annotation))
    return found


def violations(roots: list[Any]) -> dict[str, str]:
    seen: set[type] = set()
    return {path: what for root in roots for path, what in unbounded(mi.type_info(root), "", seen)}


def _exempt(path: str) -> bool:
    return any(path == key or path.startswith((f"{key}{{", f"{key}[")) for key in EXEMPT)


def test_every_request_field_is_bounded() -> None:
    bodies = request_bodies()
    assert sum(len(b) for b in bodies.values()) > 60  # every service's routes were found
    roots: list[Any] = [body for found in bodies.values() for _, body in found]
    for route, body in (r for found in bodies.values() for r in found):
        # a body is a Struct (or a list of them): never raw JSON of any shape
        info = mi.type_info(body)
        if isinstance(info, mi.ListType):
            info = info.item_type
        assert isinstance(info, mi.StructType), (route, body)
    roots += [ClientFrame, PresenceFrame]
    found = violations(roots)
    missing = {path: what for path, what in found.items() if not _exempt(path)}
    assert missing == {}
    # every exemption still names something (a stale one would hide a new field)
    for key in EXEMPT:
        assert any(_exempt(path) and path.startswith(key) for path in found), key


class Inner(msgspec.Struct):
    tags: list[str]


class Probe(msgspec.Struct):
    name: str
    bounded: Annotated[str, msgspec.Meta(max_length=5)]
    code: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{1,8}$")]
    loose: Annotated[str, msgspec.Meta(pattern=r"^[a-z]+$")]
    count: Annotated[int, msgspec.Meta(ge=0)]
    size: Annotated[int, msgspec.Meta(ge=0, le=10)]
    extra: dict[str, Any]
    inner: Annotated[list[Inner], msgspec.Meta(max_length=3)]


def test_the_walk_finds_what_is_unbounded() -> None:
    found = violations([Probe])
    assert {path.rsplit(".", 1)[1] for path in found} == {
        "name",
        "loose",
        "count",
        "extra",
        "extra{key}",
        "extra{value}",
        "tags",
        "tags[]",
    }


def test_each_service_treats_unknown_fields_one_way() -> None:
    """Unknown fields: refused by chat, noti, storage, video and ops (new contracts);
    ignored by auth, user and board, whose original clients send extra fields."""
    policy: dict[str, set[bool]] = {}
    for name, found in request_bodies().items():
        for _, body in found:
            info = mi.type_info(body)
            if isinstance(info, mi.ListType):
                info = info.item_type
            assert isinstance(info, mi.StructType)
            policy.setdefault(name, set()).add(info.forbid_unknown_fields)
    assert policy == {
        "auth": {False},
        "user": {False},
        "board": {False},
        "chat": {True},
        "noti": {True},
        "storage": {True},
        "video": {True},
        "ops": {True},
    }


@pytest.mark.slow
@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: r.service)
async def test_an_over_long_value_is_a_400_in_the_service_envelope(
    every_service: ServiceProcess,
    environment: Environment,
    issuer: TokenIssuer,
    route: WriteRoute,
) -> None:
    headers = headers_for(route, issuer)
    async with httpx.AsyncClient(base_url=every_service.url, timeout=30) as client:
        await warm_up(client, route, headers)
        before = await row_counts(environment.databases)
        for length in (route.bound + 1, 200_000):
            answer = await client.post(route.path, json=route.body(length), headers=headers)
            assert answer.status_code == 400, (length, answer.text)
            code, message = error_of(route.service, answer.json())
            assert code == "VALIDATION_ERROR" and message, answer.text
    assert await row_counts(environment.databases) == before
