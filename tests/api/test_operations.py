"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import httpx


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_metrics_expose_tasks_streams_and_latency(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await client.post("/v1/messages", json={"text": "hello"}, headers=auth)
    text = (await client.get("/metrics")).text
    assert 'errand_tasks{intent="none",status="queued"}' in text
    assert 'errand_stream_length{lane="answer"}' in text
    assert 'errand_stream_pending{lane="answer"}' in text
    assert "errand_dlq_size" in text
    assert (
        'errand_http_request_seconds_bucket{le="0.005",method="POST",route="/v1/messages",status="202"}'
        in text
    )


async def test_openapi_documents_the_contract(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/v1/users",
        "/v1/messages",
        "/v1/tasks",
        "/v1/tasks/{task_id}",
        "/v1/admin/dlq",
        "/v1/admin/dlq/{task_id}/replay",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"], path
    assert (await client.get("/docs")).status_code == 200


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
