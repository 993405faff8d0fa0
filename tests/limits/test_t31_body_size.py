"""T31: body-size limits at the services, on the app as ``wealist serve`` builds it for
production. A body of limit + 1 bytes, and a chunked body without Content-Length, to one
representative write route of every service: 413 in that service's own envelope, and not
a row stored anywhere. The edge (nginx ``client_max_body_size``, limit + 1 and chunked)
is tests/gateway/test_gateway.py::test_oversized_bodies_are_refused_at_the_gateway."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.core.test_errors import error_of
from tests.limits.support import (
    BODY_LIMIT,
    WRITE_ROUTES,
    WriteRoute,
    headers_for,
    post_raw,
    row_counts,
    warm_up,
)
from tests.plugins.harness import Environment, ServiceProcess, TokenIssuer

pytestmark = pytest.mark.slow


def _padded(route: WriteRoute, size: int) -> bytes:
    """A JSON body of exactly ``size`` bytes (valid JSON, whitespace-padded)."""
    body = json.dumps(route.body(1)).encode()
    assert len(body) < size
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: r.service)
async def test_a_body_over_the_limit_is_413_in_the_service_envelope_and_stores_nothing(
    every_service: ServiceProcess,
    environment: Environment,
    issuer: TokenIssuer,
    route: WriteRoute,
) -> None:
    headers = {**headers_for(route, issuer), "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=every_service.url, timeout=30) as client:
        await warm_up(client, route, headers)
        # exactly at the limit the body is read and judged on its content (not a 413)
        at_limit = await client.post(
            route.path, content=_padded(route, BODY_LIMIT), headers=headers
        )
        assert at_limit.status_code not in (413, 500), at_limit.text
    before = await row_counts(environment.databases)
    port = every_service.port
    over = await post_raw(port, route.path, headers, _padded(route, BODY_LIMIT + 1))
    # no Content-Length: the limit is counted as the chunks arrive
    chunked = await post_raw(
        port, route.path, headers, _padded(route, BODY_LIMIT + 65_536), chunked=True
    )
    for answer in (over, chunked):
        assert answer.status == 413, answer
        assert error_of(route.service, answer.json())[0] == "PAYLOAD_TOO_LARGE"
        assert answer.json()["requestId"] == answer.headers["x-request-id"]
    async with httpx.AsyncClient(base_url=every_service.url) as client:
        assert (await client.get("/health/live")).status_code == 200  # the process is fine
    assert await row_counts(environment.databases) == before
