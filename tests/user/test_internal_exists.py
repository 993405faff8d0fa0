"""``GET /api/internal/users/{userId}/exists``: active users only, internal key required."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.plugins.harness import INTERNAL_KEY, Environment

KEY = {"x-internal-api-key": INTERNAL_KEY}
SYSTEM_USER = "00000000-0000-0000-0000-000000000001"


async def test_exists_is_true_only_for_active_users(
    app_client: Any, environment: Environment
) -> None:
    email = f"exists-{uuid.uuid4().hex[:12]}@example.com"
    async with app_client("user") as client:
        created = await client.post(
            "/api/internal/oauth/login",
            json={"email": email, "name": "", "provider": "google"},
            headers=KEY,
        )
        user_id = created.json()["userId"]

        async def exists(which: str) -> Any:
            response = await client.get(f"/api/internal/users/{which}/exists", headers=KEY)
            assert response.status_code == 200, response.text
            return response.json()

        assert await exists(user_id) == {"exists": True}
        assert await exists(user_id.replace("-", "").upper()) == {"exists": True}
        assert await exists(SYSTEM_USER) == {"exists": True}  # seeded by the migration
        assert await exists(str(uuid.uuid4())) == {"exists": False}

        async with await psycopg.AsyncConnection.connect(
            environment.databases["user"], autocommit=True
        ) as db:
            await db.execute(
                "UPDATE users SET is_active = false, deleted_at = now() WHERE id = %s", (user_id,)
            )
        assert await exists(user_id) == {"exists": False}


BAD_IDS = [
    "nope",
    "1234",
    "6f1c2a4e-9b7d-4c1e-8f2a-3d5b7c9e1f200",
    "{6f1c2a4e-9b7d-4c1e-8f2a-3d5b7c9e1f20}",
]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_malformed_id_is_400(app_client: Any, bad: str) -> None:
    async with app_client("user") as client:
        response = await client.get(f"/api/internal/users/{bad}/exists", headers=KEY)
    assert response.status_code == 400
    body = response.json()
    assert body == {
        "error": {"code": "VALIDATION_ERROR", "message": "userId is not a valid UUID"},
        "requestId": response.headers["x-request-id"],
    }


@pytest.mark.parametrize("headers", [{}, {"x-internal-api-key": "wrong"}], ids=["none", "wrong"])
async def test_the_internal_key_is_required(app_client: Any, headers: dict[str, str]) -> None:
    async with app_client("user") as client:
        response = await client.get(f"/api/internal/users/{SYSTEM_USER}/exists", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
