"""Workspace membership as other services see it: the internal API's reply and the cache.

The user service owns memberships. ``GET /api/internal/workspaces/{ws}/members/{user}``
answers with :class:`Membership` and stores the same bytes under
:func:`membership_key`; every change writes the new answer there after commit. Readers
(board, chat, storage, video) read the key first and call the API only on a miss, so the
common case costs one Redis GET and no HTTP round trip.

``version`` grows with every change of one (workspace, user) membership; the cache keeps
the highest version it has seen (:data:`SET_IF_NEWER`), so a slow writer holding an older
answer can never overwrite a newer one.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = (
    "ACCESS_LOST_PREFIX",
    "CACHE_TTL_S",
    "DIRECTORY_MAX",
    "SET_IF_NEWER",
    "Directory",
    "DirectoryRequest",
    "Membership",
    "Person",
    "Role",
    "access_lost",
    "lost_workspace",
    "membership_key",
)

Role = Literal["OWNER", "ADMIN", "MEMBER"]

# Bounds how long a cached answer can outlive a change whose cache write was lost
# (Redis briefly unreachable right after the commit).
CACHE_TTL_S = 120


class Membership(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """Whether ``user_id`` is an active member of the active workspace ``workspace_id``."""

    workspace_id: str
    user_id: str
    is_member: bool
    role: Role | None = None  # None when not a member
    version: int = 0  # 0: never a member


def membership_key(workspace_id: str, user_id: str) -> str:
    return f"user:member:{workspace_id}:{user_id}"


# Published on ``topics.access(user)`` after a membership ends (removed, left, workspace
# deleted) and its cached answer says so: sockets of that user re-check their access at
# once instead of at their next periodic check. Never sent to a client.
ACCESS_LOST_PREFIX = "\x00access-lost:"


def access_lost(workspace_id: str) -> bytes:
    return f"{ACCESS_LOST_PREFIX}{workspace_id}".encode()


def lost_workspace(frame: str) -> str | None:
    """The workspace an access-lost signal names; None for any other frame."""
    return frame[len(ACCESS_LOST_PREFIX) :] if frame.startswith(ACCESS_LOST_PREFIX) else None


# KEYS[1] = the key; ARGV = encoded Membership, its version, TTL seconds.
# Writes unless the cached answer is at least as new. Returns 1 when written.
SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and type(decoded) == 'table' then
        local cached = tonumber(decoded['version'] or -1) or -1
        if cached >= tonumber(ARGV[2]) then
            return 0
        end
    end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


# --- names of people, for services that show them (board's owner and member names) --------

DIRECTORY_MAX = 200  # people named in one directory request


class DirectoryRequest(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    user_ids: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=DIRECTORY_MAX)
    ]


class Person(msgspec.Struct, rename="camel", frozen=True, kw_only=True, omit_defaults=True):
    """How a user appears in a workspace: their profile's nickname, else their name."""

    user_id: str
    name: str
    email: str
    profile_image_url: str | None = None


class Directory(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """``POST /api/internal/workspaces/{id}/directory``: the workspace's name and the people
    asked about (those that exist; absent ones are simply missing)."""

    workspace_id: str
    workspace_name: str
    people: list[Person]
