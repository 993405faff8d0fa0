"""Schemathesis against one service's OpenAPI document, over HTTP to a real process.

Each operation gets ``examples`` positive cases (the first with the seeded ids in the
path, so requests reach real objects instead of stopping at 404) and ``examples`` negative
ones (data the schema forbids) when the schema forbids anything. Checks: no 5xx, every
status documented, every documented response matches its schema and content type, and
negative data is refused with a 4xx. Then every read gets the values that broke routes
before (:func:`probe_edges`). Failures are collected over every operation and reported
together, one per operation, mode and kind, each with a curl command to replay it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

# CI runs a short form; `nox -s fuzz` (or the variable) a long one.
EXAMPLES = int(os.environ.get("WEALIST_FUZZ_EXAMPLES", "3"))
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
POSITIVE_CHECKS = CONFORMANCE
NEGATIVE_CHECKS = [*CONFORMANCE, negative_data_rejection]


def _config() -> SchemathesisConfig:
    """Schemathesis's defaults, plus 413 among the refusals of invalid data: a string
    past its maxLength can make the body larger than the service accepts, which it then
    refuses (documented, in its envelope) before reading it."""
    defaults = SchemathesisConfig.from_dict({}).projects.default.checks
    refusals = [*defaults.negative_data_rejection.expected_statuses, "413"]
    return SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": refusals}}}
    )


CONFIG = _config()
SSE = "text/event-stream"


@dataclass
class Outcome:
    operations: int = 0  # fuzzed (the edge probe counts none: it repeats fuzzed reads)
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def add(self, other: Outcome) -> None:
        self.operations += other.operations
        self.requests += other.requests
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.failures.extend(other.failures)


@dataclass(frozen=True)
class Target:
    base_url: str
    headers: Callable[[str], dict[str, str]]  # operation label -> auth headers
    path_values: dict[str, str]


def fuzz_document(
    document: dict[str, Any], target: Target, *, deletions: bool, examples: int = EXAMPLES
) -> Outcome:
    """Fuzz the document's DELETE operations (``deletions``) or every other one: a run
    does the others of every service first, since a member deleting their own seat or
    their project would turn the rest of the run into 404s."""
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    outcome = Outcome()
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper() == "DELETE") == deletions]
    outcome.operations = len(operations)
    for operation in sorted(operations, key=lambda op: op.label):
        _fuzz_operation(operation, GenerationMode.POSITIVE, target, session, outcome, examples)
        if _negatable(operation):
            _fuzz_operation(operation, GenerationMode.NEGATIVE, target, session, outcome, examples)
    return outcome


# A parameter schema nothing can violate once it is in a URL or a header: any text is a
# string, and a string that cannot travel is filtered out, not sent.
_FREE_TEXT = ({"type": "string"}, {"oneOf": [{"type": "string"}, {"type": "null"}]})
_ANNOTATIONS = ("description", "title", "example", "examples", "deprecated")


def _negatable(operation: Any) -> bool:
    """Whether schemathesis can make invalid data for this operation: it has a body, a
    constrained parameter, or a required one outside the path (it can be left out).

    Without this, an operation whose only input is a free-text path segment (most
    ``GET /things/{id}``) burns a thousand generation attempts per run before Hypothesis
    gives up as unsatisfiable: most of the suite's time, for no request at all."""
    raw = operation.definition.raw
    if "requestBody" in raw:
        return True
    for parameter in raw.get("parameters", []):
        schema = {k: v for k, v in parameter.get("schema", {}).items() if k not in _ANNOTATIONS}
        if schema not in _FREE_TEXT:
            return True
        if parameter.get("required") and parameter.get("in") != "path":
            return True
    return False


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    target: Target,
    session: requests.Session,
    outcome: Outcome,
    examples: int,
) -> None:
    names = {p.name for p in operation.path_parameters}
    seeded = {k: v for k, v in target.path_values.items() if k in names}
    strategies = [operation.as_strategy(generation_mode=mode)]
    if seeded and mode is GenerationMode.POSITIVE:
        # first: Hypothesis starts from the simplest choice, so the seeded ids are sure to
        # be tried even in a three-example run
        strategies.insert(0, operation.as_strategy(generation_mode=mode, path_parameters=seeded))
    checks = POSITIVE_CHECKS if mode is GenerationMode.POSITIVE else NEGATIVE_CHECKS
    streams = _declares(operation, SSE)
    failures: dict[tuple[str, ...], str] = {}  # the first of each kind

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a CI run stays bounded
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(*strategies))
    def run(case: Any) -> None:
        headers = target.headers(operation.label)
        if streams:
            _stream_once(case, target.base_url, session, headers, outcome, failures)
            return
        response = case.call(
            base_url=target.base_url,
            session=session,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )
        outcome.count(response.status_code)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as exc:  # a check failed: keep going, report them all
            failures.setdefault(_kind(exc, response.status_code), f"[{mode.value}] {exc}")

    try:
        run()
    except Unsatisfiable:  # nothing of this operation can be made invalid (no parameters)
        if mode is GenerationMode.POSITIVE:
            raise
    outcome.failures.extend(f"{operation.label} {found}" for found in failures.values())


def _kind(exc: FailureGroup, status: int) -> tuple[str, ...]:
    return (str(status), *sorted({failure.title for failure in exc.exceptions}))


# Values no route may answer with a 5xx: text PostgreSQL cannot hold, a number past bigint.
EDGE_TEXT = "edge\x00case"
EDGE_NUMBER = 2**89


def probe_edges(document: dict[str, Any], target: Target) -> Outcome:
    """Every read (GET) once per path or query parameter, that parameter set to an edge
    value (NUL in text, an integer beyond bigint) and the others to the seeded values:
    no 5xx, and the answer as documented. Random generation reaches these only at
    hundreds of examples; here they are certain at any size."""
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    outcome = Outcome()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or _declares(operation, SSE):
            continue
        parameters = [
            p
            for p in operation.definition.raw.get("parameters", [])
            if p.get("in") in ("path", "query")
        ]
        for probed in parameters:
            kinds = json.dumps(probed.get("schema", {}))
            for edge in (EDGE_TEXT, EDGE_NUMBER):
                if f'"{"string" if edge is EDGE_TEXT else "integer"}"' not in kinds:
                    continue
                path: dict[str, Any] = {}
                query: dict[str, Any] = {}
                for p in parameters:
                    value = edge if p is probed else target.path_values.get(p["name"])
                    if value is None and p.get("required"):
                        value = "x"
                    if value is not None:
                        (path if p["in"] == "path" else query)[p["name"]] = value
                case = operation.Case(path_parameters=path, query=query or None)
                headers = target.headers(operation.label)
                response = case.call(
                    base_url=target.base_url,
                    session=session,
                    headers=headers,
                    timeout=30,
                    allow_redirects=False,
                )
                outcome.count(response.status_code)
                try:
                    case.validate_response(response, checks=CONFORMANCE, headers=headers)
                except FailureGroup as exc:
                    outcome.failures.append(f"{operation.label} [edge {probed['name']}]: {exc}")
    return outcome


def _stream_once(
    case: Any,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    outcome: Outcome,
    failures: dict[tuple[str, ...], str],
) -> None:
    """A stream never ends: its status (no 5xx, documented) and declared content type are
    what is checked."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    with session.request(**kwargs, stream=True, timeout=30) as response:
        status = response.status_code
        outcome.count(status)
        kind = response.headers.get("content-type", "")
        if status >= 500 or str(status) not in case.operation.definition.raw["responses"]:
            failures.setdefault((str(status),), f"answered {status}")
        elif status == 200 and not kind.startswith(SSE):
            failures.setdefault((str(status), kind), f"a stream answered {kind!r}")


def _declares(operation: Any, media_type: str) -> bool:
    for response in operation.definition.raw.get("responses", {}).values():
        if media_type in response.get("content", {}):
            return True
    return False
