"""Settings of the storage service (``WEALIST_STORAGE_<FIELD>``)."""

from __future__ import annotations

import msgspec

from wealist.core.settings import CoreSettings

__all__ = ("StorageSettings",)

GIB = 1024**3


class StorageSettings(CoreSettings, frozen=True, kw_only=True):
    max_file_bytes: int = 100 * 1024 * 1024  # contract 8.3: 100 MB
    upload_url_ttl_s: int = 300  # the presigned PUT (at most 900)
    download_url_ttl_s: int = 300  # presigned GETs (at most 300)
    pending_upload_ttl_s: int = 3600  # an unconfirmed upload is removed after this
    # Bytes each workspace may store (every version, the trash included), and per-workspace
    # exceptions as a JSON object {"<workspace id>": bytes}.
    default_quota_bytes: int = 10 * GIB
    workspace_quotas: dict[str, int] = msgspec.field(default_factory=dict)
    cleanup_interval_s: float = 300.0  # orphaned uploads and doomed objects
    share_password_attempts_per_min: int = 10  # per public link

    def quota_for(self, workspace_id: str) -> int:
        return self.workspace_quotas.get(workspace_id, self.default_quota_bytes)
