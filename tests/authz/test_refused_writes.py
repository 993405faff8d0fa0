"""The matrices' refused-write check itself: a handler that writes and then answers 403
fails its row, a write row without a state reader fails before any request, and a reader
that changes by itself is refused. A small app of this module stands in for a service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar, Request, get, put
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from tests.plugins.authz import Case, Setup, Stage, api, at, check_case

NOTES: dict[str, str] = {}
READS = [0]


@dataclass
class Who:
    headers: dict[str, str]


@dataclass
class Little:
    def actors(self) -> dict[str, Who]:
        return {"owner": Who({"x-who": "owner"}), "stranger": Who({"x-who": "stranger"})}


@get("/notes/{key:str}")
async def read_note(key: FromPath[str]) -> dict[str, str]:
    return {"text": NOTES.get(key, "")}


@get("/counter")
async def counter() -> dict[str, int]:
    READS[0] += 1
    return {"reads": READS[0]}


@put("/careless/{key:str}", status_code=200)
async def careless(request: Request[Any, Any, Any], key: FromPath[str]) -> dict[str, str]:
    NOTES[key] = "changed"  # writes first...
    if request.headers.get("x-who") != "owner":
        raise HTTPException(status_code=403, detail="not yours")  # ...then refuses
    return {"text": NOTES[key]}


@put("/careful/{key:str}", status_code=200)
async def careful(request: Request[Any, Any, Any], key: FromPath[str]) -> dict[str, str]:
    if request.headers.get("x-who") != "owner":
        raise HTTPException(status_code=403, detail="not yours")
    NOTES[key] = "changed"
    return {"text": NOTES[key]}


@pytest.fixture(scope="module")
async def little() -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = Litestar([read_note, counter, careless, careful])
    async with AsyncTestClient(app) as client:
        yield client


async def a_note(clients: Any, world: Any) -> Setup:
    key = f"n{len(NOTES)}"
    NOTES[key] = "first"
    return Setup({"key": key})


async def run(client: AsyncTestClient[Litestar], case: Case) -> None:
    await check_case(
        client,
        case,
        actors=("stranger", "owner"),  # the order of ``refused_first``
        new_world=_world,
        clients=None,
        error_keys=frozenset({"detail"}),
        outsiders=frozenset(),
    )


async def _world() -> Little:
    return Little()


def refused_first(path: str, **kw: Any) -> Case:
    """A write of the note, by a stranger (refused), then by its owner."""
    return Case("PUT", path, (403, 200), at(path.replace(":str", "")), a_note, **kw)


async def test_a_careful_handler_passes(little: AsyncTestClient[Litestar]) -> None:
    await run(little, refused_first("/careful/{key:str}", state=api("/notes/{key}")))


async def test_a_refusal_that_wrote_fails_its_row(little: AsyncTestClient[Litestar]) -> None:
    with pytest.raises(AssertionError, match="refused stranger"):
        await run(little, refused_first("/careless/{key:str}", state=api("/notes/{key}")))


async def test_a_write_row_without_a_state_reader_fails_first(
    little: AsyncTestClient[Litestar],
) -> None:
    before = dict(NOTES)
    with pytest.raises(AssertionError, match="needs a state reader"):
        await run(little, refused_first("/careless/{key:str}", state=None))
    assert before == NOTES  # not one request was sent


async def test_a_reader_that_changes_by_itself_is_refused(
    little: AsyncTestClient[Litestar],
) -> None:
    async def unstable(stage: Stage) -> Any:
        return (await stage.client.get("/counter")).json()

    with pytest.raises(AssertionError, match="not stable"):
        await run(little, refused_first("/careful/{key:str}", state=unstable))
