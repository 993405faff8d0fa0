"""Cross-service events carried by the transactional outbox.

Schema evolution: never forbid unknown fields, append new fields with defaults, never
change a field's type. Consumers dedupe by ``id``.
"""

from __future__ import annotations

import msgspec

__all__ = ("EventEnvelope",)


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """What a relay delivers: a unique id, a dotted type, and the event body as JSON."""

    id: str
    type: str
    occurred_at: str
    payload: msgspec.Raw = msgspec.Raw(b"{}")
