"""TURN credentials for the caller: short-lived, bound to their user id."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

from wealist.core.errors import ServiceUnavailable
from wealist.video.schemas import IceServer, TurnCredentials
from wealist.video.settings import VideoSettings
from wealist.video.turn import turn_password, turn_username

__all__ = ("TurnNotConfigured", "issue_turn_credentials")


class TurnNotConfigured(ServiceUnavailable):
    code = "TURN_NOT_CONFIGURED"
    default_message = "TURN is not configured on this server"


def issue_turn_credentials(settings: VideoSettings, me: UUID) -> TurnCredentials:
    """``expiry:userId`` and its HMAC-SHA1 under coturn's shared secret, with the ICE
    servers to use them on (STUN first: it needs no credentials)."""
    if not settings.turn_configured:
        raise TurnNotConfigured
    expires = int(time.time()) + settings.turn_ttl_s
    username = turn_username(str(me), expires)
    password = turn_password(settings.turn_secret, username)
    servers = [IceServer(urls=list(settings.stun_urls))] if settings.stun_urls else []
    servers.append(IceServer(urls=list(settings.turn_urls), username=username, credential=password))
    return TurnCredentials(
        username=username,
        password=password,
        ttl=settings.turn_ttl_s,
        expires_at=datetime.fromtimestamp(expires, UTC),
        ice_servers=servers,
    )
