"""Cross-service events delivered by hand: what a producer's relay would post to a
consumer's kernel route (``/api/internal/events/<service>``, core.events)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tests.plugins.harness import INTERNAL_KEY


def envelope(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": payload,
    }


async def deliver(client: Any, service: str, event: dict[str, Any]) -> bool:
    """Post ``event`` to ``service`` (an httpx or test client of it); whether it applied
    (False: its id was applied before)."""
    response = await client.post(
        f"/api/internal/events/{service}", json=event, headers={"x-internal-api-key": INTERNAL_KEY}
    )
    assert response.status_code == 200, response.text
    applied: bool = response.json()["applied"]
    return applied
