"""An SSE route in a real process: ?token= (EventSource cannot send headers), connected
event first, live events from another request, pings, and refusal without a token."""

from __future__ import annotations

import asyncio

import httpx

from tests.plugins.harness import TokenIssuer

PROBE = "tests.core.probe:ROUTES"


async def test_stream_takes_the_token_from_the_query(service_process, issuer: TokenIssuer) -> None:
    proc = await service_process("noti", routes=PROBE, env={"WEALIST_SSE_PING_S": "0.3"})
    user_id = "6f1c2a7e-0000-4000-8000-000000000001"
    token = issuer.token(user_id)
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        refused = await client.get("/probe/stream")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHORIZED"
        async with client.stream("GET", f"/probe/stream?token={token}") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["x-accel-buffering"] == "no"
            chunks = response.aiter_text()
            first = await asyncio.wait_for(anext(chunks), 5)
            assert first == 'event: connected\ndata: {"status":"connected"}\n\n'
            await client.post(f"/probe/notify/{user_id}", json={"hello": "world"})
            seen = ""
            while "notification" not in seen or ":ping" not in seen:
                seen += await asyncio.wait_for(anext(chunks), 5)
            assert 'id: 1\nevent: notification\ndata: {"hello":"world"}\n\n' in seen
