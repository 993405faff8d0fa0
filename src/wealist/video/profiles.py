"""The caller's workspace profile, read from the user service for display in calls.

The user service answers ``GET /api/profiles/workspace/{ws}/user/{user}`` for members of
the workspace (their workspace profile, else their default one); the caller's own access
token is forwarded in the ``Authorization`` header, as the original services did. A call
must not fail because a display name could not be read: on any failure the name falls
back to the start of the user id (the original's default), never to client input.
"""

from __future__ import annotations

import httpx
import msgspec
import structlog

from wealist.core.context import ServiceContext

__all__ = ("Profile", "fallback_profile", "workspace_profile")

log = structlog.get_logger("wealist.video.profiles")

NAME_MAX = 100


class Profile(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    nick_name: str
    profile_image_url: str | None = None


_decode = msgspec.json.Decoder(Profile).decode


def fallback_profile(user_id: str) -> Profile:
    return Profile(nick_name=user_id[:8])


async def workspace_profile(
    ctx: ServiceContext, workspace_id: str, user_id: str, access_token: str
) -> Profile:
    base = ctx.settings.user_service_url.rstrip("/")
    url = f"{base}/api/profiles/workspace/{workspace_id}/user/{user_id}"
    try:
        response = await ctx.runtime.http.get(
            url,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=ctx.settings.internal_timeout_s,
        )
    except httpx.TransportError as exc:
        log.warning("profile.unavailable", error=type(exc).__name__)
        return fallback_profile(user_id)
    if response.status_code != 200:
        log.warning("profile.unavailable", status=response.status_code)
        return fallback_profile(user_id)
    try:
        found = _decode(response.content)
    except msgspec.DecodeError:  # ValidationError included
        log.warning("profile.garbled")
        return fallback_profile(user_id)
    name = found.nick_name.strip()[:NAME_MAX] or user_id[:8]
    return Profile(nick_name=name, profile_image_url=found.profile_image_url)
