from __future__ import annotations

import httpx


async def test_probe_routes_in_a_real_process(service_process, issuer) -> None:
    proc = await service_process("board", routes="tests.core.probe:ROUTES")
    async with httpx.AsyncClient(base_url=proc.url) as client:
        r = await client.get("/probe/me", headers={"Authorization": f"Bearer {issuer.token()}"})
        assert r.status_code == 200, proc.logs()
