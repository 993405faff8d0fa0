"""Tokens name their audience: one the stack's own key signed for another API (or for no
API) opens nothing - no route of any service, no socket, no SSE stream, and
``/api/auth/validate`` calls it invalid - while the auth service's own tokens carry
``aud`` and work everywhere."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.authz.support import running
from tests.authz.test_system_matrix import PROBES, scene
from tests.plugins.harness import AUDIENCE, Environment, TokenIssuer
from tests.user.support import build_world

pytestmark = pytest.mark.slow

# one authenticated read per service
READS = {
    "user": "/api/users/me",
    "board": "/api/projects/workspace/{a}",
    "chat": "/api/chats/my",
    "noti": "/api/notifications/unread-count",
    "storage": "/api/storage/shared-with-me",
    "video": "/api/video/rooms/workspace/{a}",
    "ops": "/api/ops/api/admin/users",
    "auth": "/api/auth/sessions",
}


async def test_a_token_for_another_audience_opens_nothing(
    environment: Environment, tmp_path: Path, issuer: TokenIssuer
) -> None:
    async with (
        running(environment, "all", tmp_path) as proc,
        httpx.AsyncClient(base_url=proc.url, timeout=30) as http,
    ):
        world = await build_world(http, issuer)
        values = await scene(http, world)
        owner = world.owner.user_id
        good = issuer.token(owner)
        strangers = {
            "another audience": issuer.token(owner, aud="some-other-api"),
            "several, none ours": issuer.token(owner, aud=["some-other-api", "billing"]),
            "no audience": issuer.token(owner, aud=None),
        }
        base = proc.url.replace("http://", "ws://", 1)
        for service, path in READS.items():
            url = path.format(**values)
            ok = await http.get(url, headers={"Authorization": f"Bearer {good}"})
            assert ok.status_code != 401, (service, ok.text)  # past the token: the route's rules
            for name, token in strangers.items():
                refused = await http.get(url, headers={"Authorization": f"Bearer {token}"})
                assert refused.status_code == 401, (service, name, refused.text)
        for name, token in strangers.items():
            validated = await http.post("/api/auth/validate", json={"token": token})
            assert validated.status_code == 200 and validated.json()["valid"] is False, name
            stream = await http.get("/api/notifications/stream", params={"token": token})
            assert stream.status_code == 401, (name, stream.text)
            for path, _ in PROBES.values():
                joiner = "&" if "?" in path else "?"
                with pytest.raises(InvalidStatus):
                    async with connect(
                        f"{base}{path.format(**values)}{joiner}token={token}", open_timeout=10
                    ):
                        pass
        # the right audience still opens them
        for path, hello in PROBES.values():
            joiner = "&" if "?" in path else "?"
            async with connect(
                f"{base}{path.format(**values)}{joiner}token={good}", open_timeout=10
            ) as ws:
                await hello(ws)
        # and what the auth service mints names it
        signed_up = await http.post(
            "/api/auth/signup", json={"email": "aud@example.com", "password": "pw-0123456789"}
        )
        assert signed_up.status_code in (200, 201), signed_up.text
        minted = signed_up.json()["accessToken"]
        assert jwt.decode(minted, options={"verify_signature": False})["aud"] == AUDIENCE
        validated = await http.post("/api/auth/validate", json={"token": minted})
        assert validated.json()["valid"] is True, validated.text
