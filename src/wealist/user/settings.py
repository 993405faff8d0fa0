"""Settings of the user service (``WEALIST_USER_<FIELD>``)."""

from __future__ import annotations

from wealist.core.settings import CoreSettings

__all__ = ("UserSettings",)


class UserSettings(CoreSettings, frozen=True, kw_only=True):
    profile_image_max_bytes: int = 20 * 1024 * 1024
    upload_url_ttl_s: int = 300  # the presigned PUT (contract: 5 minutes)
    temp_attachment_ttl_s: int = 3600  # an unconfirmed upload is deleted after this
    pending_uploads_per_user: int = 20  # unconfirmed uploads one user may hold at once
    attachment_cleanup_interval_s: float = 300.0
