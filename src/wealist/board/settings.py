"""Settings of the board service (``WEALIST_BOARD_<FIELD>``)."""

from __future__ import annotations

from wealist.core.settings import CoreSettings

__all__ = ("BoardSettings",)


class BoardSettings(CoreSettings, frozen=True, kw_only=True):
    upload_url_ttl_s: int = 300  # the presigned PUT (contract 5.5: 5 minutes)
    download_url_ttl_s: int = 300
    temp_attachment_ttl_s: int = 3600  # an unconfirmed upload is purged after this
    pending_uploads_per_user: int = 20  # unconfirmed uploads one user may hold at once
    attachment_cleanup_interval_s: float = 3600.0  # the hourly purge (contract 5.5)
    reminder_interval_s: float = 60.0  # how often due dates are checked
    due_soon_window_s: float = 86_400.0  # BOARD_DUE_SOON this long before the due date
    event_retention_s: float = 86_400.0  # a socket can resume from this far back
    replay_limit: int = 1000  # a resume missing more events than this gets ``reset``
    online_ttl_s: float = 90.0  # a socket that stops heartbeating counts as gone after this
    ws_sockets_per_user: int = 20  # board sockets one user holds, across instances (4409)
    # Client frames a second per socket (its clients only ping): RATE_LIMITED, then 4429
    # after ws_rate_strikes refused in a row.
    ws_frames_per_s: float = 5.0
    ws_rate_strikes: int = 20
