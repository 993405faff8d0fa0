"""The storage service's SQL: one async function per named query in ``queries/*.sql``."""

from __future__ import annotations

from wealist.storage.store.files import *  # noqa: F403
from wealist.storage.store.folders import *  # noqa: F403
from wealist.storage.store.projects import *  # noqa: F403
from wealist.storage.store.shares import *  # noqa: F403
