"""Workspace membership for the services that do not own it (board, chat, storage, video).

One Redis GET answers the common case: the user service keeps
``user:member:{workspace}:{user}`` current on every change (see
:mod:`wealist.contracts.membership`). On a miss, or when Redis cannot answer, the user
service's internal API is asked, and it fills the cache for the next time.
"""

from __future__ import annotations

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wealist.contracts.membership import (
    DIRECTORY_MAX,
    Directory,
    DirectoryRequest,
    Membership,
    membership_key,
)
from wealist.core.errors import ServiceUnavailable, ValidationFailed
from wealist.core.internal import InternalClient

__all__ = ("MembershipClient",)

_decode = msgspec.json.Decoder(Membership).decode
_decode_directory = msgspec.json.Decoder(Directory).decode
_encode = msgspec.json.Encoder().encode
log = structlog.get_logger("wealist.membership")


class MembershipClient:
    def __init__(self, redis: Redis, internal: InternalClient, user_service_url: str) -> None:
        self._redis = redis
        self._internal = internal
        self._base = user_service_url.rstrip("/")

    async def get(self, workspace_id: str, user_id: str) -> Membership:
        """Whether ``user_id`` is an active member of ``workspace_id``, and their role."""
        try:
            cached = await self._redis.get(membership_key(workspace_id, user_id))
        except RedisError:
            cached = None  # the user service answers instead
        if cached is not None:
            try:
                return _decode(cached)
            except msgspec.DecodeError:
                pass  # a corrupt entry: ask, and the answer replaces it
        response = await self._internal.request(
            "GET", f"{self._base}/api/internal/workspaces/{workspace_id}/members/{user_id}"
        )
        if response.status_code == 400:
            raise ValidationFailed("workspace or user id is not a valid UUID")
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"the user service could not check membership (HTTP {response.status_code})"
            )
        try:
            return _decode(response.content)
        except msgspec.DecodeError as exc:
            raise ServiceUnavailable("the user service answered membership garbled") from exc

    async def directory(self, workspace_id: str, user_ids: list[str]) -> Directory | None:
        """The workspace's name and how these users appear in it; None when the user
        service cannot say (callers show ids without names rather than fail)."""
        asked = list(dict.fromkeys(user_ids))[:DIRECTORY_MAX]
        try:
            response = await self._internal.request(
                "POST",
                f"{self._base}/api/internal/workspaces/{workspace_id}/directory",
                content=_encode(DirectoryRequest(user_ids=asked)),
                headers={"content-type": "application/json"},
            )
            if response.status_code == 200:
                return _decode_directory(response.content)
            log.warning("membership.directory_failed", status=response.status_code)
        except (ServiceUnavailable, msgspec.DecodeError) as exc:
            log.warning("membership.directory_failed", error=type(exc).__name__)
        return None
