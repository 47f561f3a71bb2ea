"""CORS is off by default: no browser on another origin is told it may call the API."""

from __future__ import annotations

import httpx


async def test_no_cross_origin_grant_by_default(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    origin = {"Origin": "https://evil.example"}
    preflight = await client.options(
        "/v1/messages", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    posted = await client.post("/v1/messages", json={"text": "hi"}, headers={**auth, **origin})
    assert posted.status_code == 202
    assert not any(name.startswith("access-control-") for name in posted.headers)
