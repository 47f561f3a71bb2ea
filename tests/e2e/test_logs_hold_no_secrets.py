"""Logs at INFO hold no secrets and no message bodies: what people say and the tokens and signing
secrets that protect them never reach a log line, in the JSON form production writes."""

from __future__ import annotations

import logging

import httpx
import pytest

from providers.logs import JsonFormatter
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import ADMIN_TOKEN, Services, running_worker
from tests.notify.conftest import notify_settings
from tests.notify.receiver import Receiver

BODY = "tell my daughter the door code is 4711 xyzzy"


@pytest.fixture
def settings(services: Services) -> Settings:
    return notify_settings(services)  # the receiver is on 127.0.0.1


async def test_nothing_secret_or_said_reaches_the_logs(
    client: httpx.AsyncClient, providers: Providers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    token = (await client.post("/v1/users", json={}, headers=admin)).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    async with Receiver(answers=[500]) as hook:  # a failed attempt is logged too
        contact = {
            "name": "Anna",
            "relation": "daughter",
            "webhook_url": hook.url,
            "consents": {"messages": True},
        }
        made = (await client.post("/v1/contacts", json=contact, headers=auth)).json()
        hook.secrets = [made["secret"]]
        task = (await client.post("/v1/messages", json={"text": BODY}, headers=auth)).json()
        await client.post(f"/v1/tasks/{task['task_id']}/confirm", headers=auth)
        await client.post(
            "/v1/messages", json={"text": BODY}, headers={"Authorization": "Bearer wrong-token"}
        )
        await client.post("/v1/messages", content=b'{"text": "' + BODY.encode() + b'", "x": 1}', headers=auth)
        async with running_worker(providers):
            await hook.wait_for(1, timeout=30)
    rendered = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert caplog.records, "the run logged nothing at all: the test would prove nothing"
    for secret in (token, ADMIN_TOKEN, made["secret"], "4711", "xyzzy", "wrong-token"):
        assert secret not in rendered, secret
