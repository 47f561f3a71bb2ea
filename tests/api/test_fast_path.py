"""POST /v1/messages skips Starlette's routing (api/fast_path.py): the answers, the metrics and the
500 for a bug must be what the routed request would give."""

from __future__ import annotations

import httpx
import pytest

import api.routes.messages
from api.app import create_app
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import new_user


async def test_the_fast_path_is_labelled_like_a_routed_request(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.post("/v1/messages", json={"text": "hi"}, headers=auth)).status_code == 202
    assert (await client.post("/v1/messages", json={}, headers=auth)).status_code == 422
    metrics = (await client.get("/metrics")).text
    assert 'errand_http_request_seconds_count{method="POST",route="/v1/messages",status="202"}' in metrics
    assert 'errand_http_request_seconds_count{method="POST",route="/v1/messages",status="422"}' in metrics


async def test_a_bug_on_the_fast_path_is_a_500_problem_not_a_dropped_connection(
    settings: Settings, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.routes.messages, "accept_message", broken)
    app = create_app(settings, providers)
    async with app.router.lifespan_context(app):
        # As a server does: the 500 is sent, then the error reaches the server to be logged.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            auth = await new_user(http)
            response = await http.post("/v1/messages", json={"text": "hi"}, headers=auth)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "a bug" not in response.text  # no internals leak
