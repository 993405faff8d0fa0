"""Settings of the chat service (``WEALIST_CHAT_<FIELD>``)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

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
    # Message sends: group commit (actions.sending, chat.writer). The sends of a process
    # that arrive while a batch is written go into the next one, in one transaction.
    # Connections: each process holds db_pool_max pooled connections (reads, every other
    # write) plus send_lanes connections of its own for the sends, plus one for the
    # outbox relay's LISTEN; PostgreSQL's max_connections must exceed the sum over all
    # chat processes (and the other services'). One lane keeps a core busy; a second lets
    # one chat's batch wait on a lock (another process writing it) while others go on.
    send_lanes: Annotated[int, Meta(ge=1, le=16)] = 2
    send_batch_max: Annotated[int, Meta(ge=1, le=1000)] = 200  # sends in one transaction
    # An idle lane waits this long for the sends of the next moment before it writes.
    send_linger_s: Annotated[float, Meta(ge=0, le=0.1)] = 0.001
    # Sends queued or being written per process; past it a send waits for room (it is
    # never refused). Keep it above the sockets of a process: a socket has one send in
    # flight at a time, so at steady load nobody waits here.
    send_queue_max: Annotated[int, Meta(ge=1)] = 10_000
    # Uploads (contract 6.1: presigned PUT, 5 minutes)
    upload_url_ttl_s: int = 300
    download_url_ttl_s: int = 300
