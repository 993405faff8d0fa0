"""Parser-level limits on every service: bodies hostile to a JSON parser or to the
database, sent to one representative write route of each service (``WRITE_ROUTES``) as
``wealist serve`` builds it for production, each a 400 in that service's envelope with
nothing stored and no error logged. Body size is T31 (test_t31_body_size.py), field
lengths T32 (test_t32_field_bounds.py); here the value of the route's bounded field is
replaced by something no parser should be made to chew on."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.core.test_errors import error_of
from tests.limits.support import WRITE_ROUTES, WriteRoute, headers_for, row_counts, warm_up
from tests.plugins.harness import Environment, ServiceProcess, TokenIssuer

pytestmark = pytest.mark.slow


def bounded_field(route: WriteRoute) -> str:
    """The key whose value ``route.body(n)`` sizes."""
    short, long = route.body(20), route.body(21)
    (key,) = (k for k, v in short.items() if isinstance(v, str) and len(long[k]) == len(v) + 1)
    return key


def with_value(route: WriteRoute, raw_value: bytes) -> bytes:
    """The route's valid body with the bounded field's value replaced by ``raw_value``."""
    body = route.body(20)
    key = bounded_field(route)
    marker = "\u2603" * 20
    body[key] = marker
    return json.dumps(body).encode().replace(json.dumps(marker).encode(), raw_value)


def duplicated(route: WriteRoute) -> bytes:
    """The valid body with the bounded field given twice (two values a reader could pick)."""
    body = json.dumps(route.body(20)).encode()
    key = bounded_field(route)
    return body[:-1] + b", " + json.dumps(key).encode() + b': "other"}'


# name -> (body of the route, words the refusal must contain: the guard's own, not a type error)
HOSTILE: dict[str, tuple[Callable[[WriteRoute], bytes], str]] = {
    "nested_1000": (lambda r: with_value(r, b"[" * 1000 + b"]" * 1000), "nested deeper"),
    "nested_object_33": (lambda r: with_value(r, b'{"a":' * 33 + b"1" + b"}" * 33), "nested"),
    "integer_65_bits": (lambda r: with_value(r, b"36893488147419103232"), "64 bits"),
    "integer_400_digits": (lambda r: with_value(r, b"9" * 400), "64 bits"),
    "nul_escape": (lambda r: with_value(r, b'"a\\u0000b"'), "NUL"),
    "duplicate_key": (duplicated, "duplicate key"),
    "invalid_utf8": (lambda r: with_value(r, b'"caf\xc3\x28 \xff"'), "UTF-8"),
    "raw_nul_byte": (lambda r: with_value(r, b'"a\x00b"'), ""),
    "string_100k": (lambda r: with_value(r, json.dumps("s" * 100_000).encode()), ""),
}


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: r.service)
async def test_hostile_bodies_are_400_in_the_service_envelope_and_store_nothing(
    every_service: ServiceProcess,
    environment: Environment,
    issuer: TokenIssuer,
    route: WriteRoute,
) -> None:
    headers = {**headers_for(route, issuer), "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=every_service.url, timeout=30) as client:
        await warm_up(client, route, headers)
        before = await row_counts(environment.databases)
        logged = len(every_service.logs())
        for name, (make, words) in HOSTILE.items():
            answer = await client.post(route.path, content=make(route), headers=headers)
            assert answer.status_code == 400, (name, answer.status_code, answer.text)
            code, message = error_of(route.service, answer.json())
            assert code in ("VALIDATION_ERROR", "BAD_REQUEST"), (name, code)
            assert words in message, (name, message)
        assert (await client.get("/health/live")).status_code == 200
    assert await row_counts(environment.databases) == before
    since = every_service.logs()[logged:]
    assert "Traceback" not in since and "unhandled_error" not in since, since[-3000:]


async def test_a_deep_body_to_login_without_a_token_is_400(every_service: ServiceProcess) -> None:
    """The report's case: 2 KB of brackets to an unauthenticated route."""
    async with httpx.AsyncClient(base_url=every_service.url, timeout=30) as client:
        answer = await client.post(
            "/api/auth/login",
            content=b"[" * 1000 + b"]" * 1000,
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 400, answer.text
    assert "nested deeper than 32" in error_of("auth", answer.json())[1]
