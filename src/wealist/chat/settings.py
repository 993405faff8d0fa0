"""Settings of the chat service (``WEALIST_CHAT_<FIELD>``)."""

from __future__ import annotations

from wealist.core.settings import CoreSettings

__all__ = ("ChatSettings",)


class ChatSettings(CoreSettings, frozen=True, kw_only=True):
    # Sockets
    ws_messages_per_s: float = 20.0  # client frames per second per socket (burst: 2 s worth)
    ws_rate_strikes: int = 20  # frames refused in a row before the socket is closed (4429)
    ws_sockets_per_user: int = 20  # chat + presence sockets of one user, across instances
    ws_client_timeout_s: float = 90.0  # no frame from the client for this long: closed (4408)
    replay_max: int = 1000  # events a resuming socket is sent; further back: RESET
    event_retention_s: float = 7 * 86_400.0  # a socket can resume from this far back
    gap_wait_s: float = 0.3  # a rev gap waits this long for the missing frame, then reads PG
    tail_cache_s: float = 5.0  # how long one process reuses a chat's newest rev for checks
    # Presence
    presence_lease_s: float = 75.0  # a connection counts this long after its last sign of life
    presence_away_s: float = 300.0  # no activity for this long: AWAY
    presence_sweep_s: float = 2.0  # how often expired leases and idle users are swept
    presence_workspaces_max: int = 50  # workspaces one presence socket follows
    # Presence's Redis round trips in flight at once (each on its own pooled connection);
    # the calls of every socket made meanwhile wait and travel together in the next one.
    presence_redis_connections: int = 4
    # Uploads (contract 6.1: presigned PUT, 5 minutes)
    upload_url_ttl_s: int = 300
    download_url_ttl_s: int = 300
