"""Ceiling (c) of ``bench.http``: FastAPI + pydantic v2 on uvicorn doing wealist's work.

What a team would write instead, route for route: the same token checks (RS256 with the
key from auth's JWKS, ``iss``/``aud``/``exp``/``type``, a verified token remembered until
it expires, as wealist's verifier does), revocation asked of Redis on every request (the
usual way: one MGET of the loaded marker, the token's and its session's keys), workspace
membership read from the same Redis cache key, the same SQL text from wealist's ``.sql``
files through a psycopg pool, and the same JSON shapes through pydantic models.

Configured by ``BENCH_*`` variables (set by ``bench.http``); run with
``uvicorn bench.fastapi_app:app --loop uvloop --http httptools``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import jwt
from fastapi import FastAPI, Header, HTTPException, Response
from jwt.algorithms import RSAAlgorithm
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from redis.asyncio import Redis

from wealist.contracts.keys import REVOCATIONS_LOADED, revoked_jti, revoked_session
from wealist.contracts.membership import membership_key
from wealist.core.db import load_queries

USER_SQL = load_queries("wealist.user.queries")
BOARD_SQL = load_queries("wealist.board.queries")


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Live(BaseModel):
    status: str = "alive"


class ValidateIn(BaseModel):
    token: str


class ValidateOut(Camel):
    valid: bool
    message: str
    user_id: str | None = None
    code: str | None = None


class MyWorkspace(Camel):
    workspace_id: UUID
    workspace_name: str
    workspace_description: str | None
    owner: bool
    role: str
    created_at: datetime
    is_default: bool


class FileRef(Camel):
    id: UUID
    file_name: str
    file_url: str
    file_size: int
    content_type: str
    uploaded_by: UUID
    uploaded_at: datetime


class Board(Camel):
    board_id: UUID
    project_id: UUID
    workspace_id: UUID
    author_id: UUID
    title: str
    content: str
    custom_fields: dict[str, str]
    participant_ids: list[UUID]
    attachments: list[FileRef]
    rank: str
    version: int
    created_at: datetime
    updated_at: datetime
    assignee_id: UUID | None = None
    start_date: datetime | None = None
    due_date: datetime | None = None


class Boards(Camel):
    data: list[Board]
    request_id: str


class State:
    keys: dict[str, Any]
    redis: Redis
    user_db: AsyncConnectionPool
    board_db: AsyncConnectionPool
    verified: dict[str, dict[str, Any]]


state = State()


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    async with httpx.AsyncClient() as client:
        document = (await client.get(os.environ["BENCH_JWKS_URL"])).json()
    state.keys = {k["kid"]: RSAAlgorithm.from_jwk(k) for k in document["keys"]}
    state.redis = Redis.from_url(os.environ["BENCH_REDIS_URL"])
    state.user_db = AsyncConnectionPool(
        os.environ["BENCH_USER_DB"], max_size=10, kwargs={"autocommit": True}, open=False
    )
    state.board_db = AsyncConnectionPool(
        os.environ["BENCH_BOARD_DB"], max_size=10, kwargs={"autocommit": True}, open=False
    )
    state.verified = {}
    await state.user_db.open(wait=True)
    await state.board_db.open(wait=True)
    yield
    await state.user_db.close()
    await state.board_db.close()
    await state.redis.aclose()


app = FastAPI(lifespan=lifespan)


async def verify(token: str) -> dict[str, Any]:
    claims = state.verified.get(token)
    if claims is None or claims["exp"] <= time.time():
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            claims = jwt.decode(
                token,
                state.keys[kid],
                algorithms=["RS256"],
                issuer=os.environ["BENCH_ISSUER"],
                audience="wealist-api",
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except (jwt.InvalidTokenError, KeyError) as exc:
            raise HTTPException(401, "invalid token") from exc
        if claims.get("type") != "access":
            raise HTTPException(401, "invalid token")
        state.verified[token] = claims
    keys = [REVOCATIONS_LOADED, revoked_jti(claims["jti"])]
    if claims.get("sid"):
        keys.append(revoked_session(claims["sid"]))
    loaded, *revoked = await state.redis.mget(keys)
    if loaded is None or any(value is not None for value in revoked):
        raise HTTPException(401, "token revoked")
    return claims


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _file(row: dict[str, Any]) -> FileRef:
    return FileRef(
        id=row["id"],
        file_name=row["file_name"],
        file_url=row["file_key"],
        file_size=row["file_size"],
        content_type=row["content_type"],
        uploaded_by=row["uploaded_by"],
        uploaded_at=row["created_at"],
    )


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing token")
    return token


@app.get("/health/live")
async def live() -> Live:
    return Live()


@app.post("/api/auth/validate")
async def validate(body: ValidateIn) -> ValidateOut:
    try:
        claims = await verify(body.token)
    except HTTPException as exc:
        return ValidateOut(valid=False, message=str(exc.detail))
    return ValidateOut(valid=True, message="Token is valid", user_id=claims["sub"])


@app.get("/api/workspaces/all", response_model=list[MyWorkspace], response_model_by_alias=True)
async def my_workspaces(authorization: str | None = Header(None)) -> list[MyWorkspace]:
    claims = await verify(bearer(authorization))
    async with state.user_db.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(USER_SQL["list_my_workspaces"].sql, {"user": claims["sub"]})
        rows = await cur.fetchall()
    return [MyWorkspace(workspace_id=r.pop("id"), **r) for r in rows]


@app.get("/api/boards/project/{project_id}", response_model_by_alias=True)
async def project_boards(
    project_id: UUID, response: Response, authorization: str | None = Header(None)
) -> Boards:
    claims = await verify(bearer(authorization))
    async with state.board_db.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(BOARD_SQL["project_by_id"].sql, {"id": project_id, "user": claims["sub"]})
        project = await cur.fetchone()
        if project is None:
            raise HTTPException(404, "project not found")
        cached = await state.redis.get(membership_key(str(project["workspace_id"]), claims["sub"]))
        if cached is None or not json.loads(cached).get("isMember"):
            raise HTTPException(404, "project not found")
        await cur.execute(BOARD_SQL["event_bounds"].sql, {"project": project_id})
        bounds = await cur.fetchone()
        await cur.execute(BOARD_SQL["list_boards"].sql, {"project": project_id, "filter": "{}"})
        rows = await cur.fetchall()
    boards = [
        Board(
            board_id=r["id"],
            project_id=r["project_id"],
            workspace_id=r["workspace_id"],
            author_id=r["author_id"],
            title=r["title"],
            content=r["content"],
            custom_fields=_json(r["custom_fields"]),
            participant_ids=r["participant_ids"],
            attachments=[_file(f) for f in _json(r["attachments"])],
            rank=r["rank"],
            version=r["version"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            assignee_id=r["assignee_id"],
            start_date=r["start_date"],
            due_date=r["due_date"],
        )
        for r in rows
    ]
    response.headers["X-Event-Seq"] = str(bounds["last"] if bounds else 0)
    return Boards(data=boards, request_id="")
