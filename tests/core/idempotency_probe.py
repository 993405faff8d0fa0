"""Probe routes for the Idempotency-Key tests (mounted on the board spec, never shipped)."""

from __future__ import annotations

from collections import Counter

import msgspec
from litestar import Response, post
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from wealist.core.deps import Caller
from wealist.core.errors import ServiceUnavailable, ValidationFailed

RUNS: Counter[str] = Counter()  # how many times each order really ran
FAIL_FIRST: set[str] = set()  # names that answer 503 the first time


class Order(msgspec.Struct):
    name: str


class Placed(msgspec.Struct):
    name: str
    by: str
    run: int


@post("/probe/orders")
async def place(caller: Caller, data: JSONBody[Order]) -> Response[Placed]:
    if data.name == "bad":
        raise ValidationFailed("bad order")
    if data.name in FAIL_FIRST:
        FAIL_FIRST.discard(data.name)
        raise ServiceUnavailable("try again")
    RUNS[data.name] += 1
    placed = Placed(data.name, caller.user_id, RUNS[data.name])
    return Response(placed, status_code=201, headers={"Location": f"/probe/orders/{data.name}"})


ROUTES: list[ControllerRouterHandler] = [place]
