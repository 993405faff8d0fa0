"""T35: schemathesis against every service's OpenAPI document, with seeded fixtures.

One ``wealist serve all`` process with every backend configured (S3-compatible server,
fake LiveKit, Prometheus, fake Loki) and a seeded workspace; each service's own document
(as ``wealist openapi <svc>`` prints it) is fuzzed over HTTP, authenticated as a regular
member of the workspace (internal routes included: without the internal key they must
answer a documented 401). Pass: no 5xx, every status documented, every response matches
its documented schema and content type (the SSE stream declares ``text/event-stream``),
negative data gets a 4xx, and every read survives the edge values of ``probe_edges``.

CI runs ``WEALIST_FUZZ_EXAMPLES`` (default 3) examples per operation and mode;
``nox -s fuzz`` runs 100 (``-- 1000`` for a nightly run).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest

from tests.plugins.harness import Environment, ServiceProcess, TokenIssuer
from tests.security.fuzz import EXAMPLES, Outcome, Target, fuzz_document, probe_edges
from tests.security.seed import Seed
from tests.user.support import sign_up
from wealist.core.app import build_app
from wealist.services import SERVICES, spec

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)  # what each service answered: --log-cli-level=INFO

# Operations that end the caller's own session or account: they run as a throwaway user,
# or the member's token would be dead for every operation after them.
SELF_DESTRUCTIVE = {
    "POST /api/auth/logout",
    "POST /api/auth/sessions/revoke-others",
    "DELETE /api/auth/sessions/{session_id}",
    "DELETE /api/users/me",
}


def document(environment: Environment, name: str) -> dict[str, Any]:
    """The service's OpenAPI document, as ``wealist openapi <name>`` prints it."""
    app = build_app(spec(name), environment.settings(name), configure_logs=False)
    found: dict[str, Any] = app.openapi_schema.to_schema()
    return found


async def test_every_service_answers_fuzzing_without_5xx_and_as_documented(
    stack: ServiceProcess,
    stack_http: httpx.AsyncClient,
    seed: Seed,
    environment: Environment,
    issuer: TokenIssuer,
) -> None:
    throwaway = await sign_up(stack_http, issuer, "throwaway")

    def headers(label: str) -> dict[str, str]:
        if label in SELF_DESTRUCTIVE:
            return {"Authorization": f"Bearer {issuer.token(throwaway.user_id)}"}
        return seed.member.headers

    documents = {name: document(environment, name) for name in SERVICES}
    outcomes = {name: Outcome() for name in SERVICES}
    # Every other operation of every service first, then the edge values on every read,
    # then the deletions, the user service's last: a member removing their own seat, or
    # their project, turns whatever follows into 404s.
    steps: list[tuple[str, Callable[[dict[str, Any], Target], Outcome]]] = []
    steps += [(name, partial(fuzz_document, deletions=False)) for name in SERVICES]
    steps += [(name, probe_edges) for name in SERVICES]
    last = sorted(SERVICES, key=lambda name: name == "user")
    steps += [(name, partial(fuzz_document, deletions=True)) for name in last]
    for name, step in steps:
        target = Target(stack.url, headers, seed.path_values(name))
        outcomes[name].add(await asyncio.to_thread(step, documents[name], target))
    for name, outcome in outcomes.items():
        statuses = ", ".join(f"{k}:{v}" for k, v in sorted(outcome.statuses.items()))
        log.info(
            "%s: %d operations, %d requests (%s)",
            name,
            outcome.operations,
            outcome.requests,
            statuses,
        )
    failures = [f"[{name}] {found}" for name, o in outcomes.items() for found in o.failures]
    assert not failures, f"{len(failures)} failures ({EXAMPLES} examples):\n\n" + "\n\n".join(
        failures
    )
    for name, outcome in outcomes.items():
        # the run reached real objects, not only refusals: some 2xx in every service
        assert any(200 <= status < 300 for status in outcome.statuses), (name, outcome)
    # the member's account outlived the run (its own deletion ran as the throwaway user)
    me = await stack_http.get("/api/users/me", headers=seed.member.headers)
    assert me.status_code == 200, me.text
