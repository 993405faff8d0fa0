"""Snapshots of Locust's statistics in the format :mod:`loadtests.gate` reads.

Duck-typed on Locust's ``RequestStats`` so that this module, like the gate, never imports
Locust (pytest must not: it would patch the test process).
"""

from __future__ import annotations

from typing import Any

__all__ = ("snapshot",)

KEPT = (
    "name",
    "method",
    "num_requests",
    "num_none_requests",
    "num_failures",
    "total_response_time",
    "max_response_time",
    "min_response_time",
    "total_content_length",
    "start_time",
    "last_request_timestamp",
)


def snapshot(stats: Any, *, users: int, duration_s: float, **extra: Any) -> dict[str, Any]:
    entries = []
    for entry in stats.entries.values():
        if entry.num_requests == 0 and entry.num_failures == 0:
            continue
        raw = entry.serialize()
        kept = {key: raw[key] for key in KEPT}
        kept["response_times"] = {str(k): v for k, v in raw["response_times"].items()}
        entries.append(kept)
    errors = [
        {
            "method": error.method,
            "name": error.name,
            "error": str(error.error),
            "occurrences": error.occurrences,
        }
        for error in stats.errors.values()
    ]
    return {
        "users": users,
        "duration_s": round(duration_s, 3),
        "entries": entries,
        "errors": errors,
        **extra,
    }
