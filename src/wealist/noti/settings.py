"""Settings of the noti service (``WEALIST_NOTI_<FIELD>``, then ``WEALIST_<FIELD>``)."""

from __future__ import annotations

from typing import Literal

from wealist.core.settings import CoreSettings

__all__ = ("NotiSettings",)


class NotiSettings(CoreSettings, frozen=True, kw_only=True):
    # The unread-count cache (contract: 300 s); a lost invalidation lives at most this long.
    unread_cache_ttl_s: int = 300

    # SSE. Idle streams get a ``:ping`` comment this often: well under the 60 s read
    # timeout of a default NGINX (the original's 30 s left little room).
    sse_ping_s: float = 15.0
    sse_retry_ms: int = 3000  # the reconnection delay the ``connected`` event asks for
    sse_replay_page: int = 200  # rows per replay query
    sse_replay_max: int = 1000  # a client further behind gets ``reset`` and refetches
    sse_close_on_expiry: bool = True  # end a stream when its access token expires
    # Each process compares its open streams with the database this often (one query):
    # a notification committed by a process that died before publishing it still arrives.
    sse_tail_check_s: float = 15.0

    # Retention: read notifications (and those never shown in the app) older than this
    # are deleted; consumed event ids are forgotten after ``inbox_retention_days``.
    retention_days: int = 30
    inbox_retention_days: int = 30
    retention_interval_s: float = 3600.0
    retention_batch: int = 1000

    # Email digests: one email per user gathering what arrived during the window that
    # starts with their first pending notification; only notifications still unread.
    digest_window_s: float = 900.0
    digest_interval_s: float = 60.0
    digest_users_per_round: int = 50
    digest_max_items: int = 50
    app_url: str = ""  # the web app's address, for links in emails

    # SMTP. No host: email is off (notifications wait as pending until it is configured).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "weAlist <no-reply@wealist.local>"
    smtp_timeout_s: float = 30.0
    smtp_ca_file: str = ""  # extra CA bundle (a private relay's certificate)
