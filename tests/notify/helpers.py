"""Helpers of the notify tests: contacts through the API, messages confirmed as a person would."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.helpers import wait_for_status


async def add_contact(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    url: str,
    *,
    name: str = "Anna",
    relation: str | None = "daughter",
    consents: Sequence[str] = ("messages",),
) -> dict[str, Any]:
    body = {"name": name, "relation": relation, "webhook_url": url, "consents": {t: True for t in consents}}
    response = await client.post("/v1/contacts", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def send_message(
    client: httpx.AsyncClient, auth: dict[str, str], text: str, *, confirm: bool = True
) -> dict[str, Any]:
    """POST /v1/messages, then say yes to the read-back (POST …/confirm)."""
    accepted = await client.post("/v1/messages", json={"text": text}, headers=auth)
    assert accepted.status_code == 202, accepted.text
    task: dict[str, Any] = accepted.json()
    assert task["intent"] == "notify_family", task
    assert task["status"] == "awaiting_confirmation", task
    if confirm:
        confirmed = await client.post(f"/v1/tasks/{task['task_id']}/confirm", headers=auth)
        assert confirmed.status_code == 200, confirmed.text
    return task


async def finished(providers: Providers, task_id: str | uuid.UUID, *statuses: TaskStatus) -> Any:
    wanted = set(statuses) or {TaskStatus.SUCCEEDED, TaskStatus.DEAD_LETTERED, TaskStatus.NEEDS_INPUT}
    return await wait_for_status(providers, uuid.UUID(str(task_id)), wanted)


async def deliveries(
    client: httpx.AsyncClient, auth: dict[str, str], contact_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/contacts/{contact_id}/deliveries", headers=auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def fast_forward(providers: Providers, task_id: str | uuid.UUID) -> None:
    """Bring a scheduled retry due now, instead of waiting minutes for it (the relay publishes it)."""
    async with providers.pool.acquire() as conn:
        await conn.execute(
            "UPDATE tasks SET not_before = now(), publish_after = now() "
            "WHERE id = $1 AND status = 'retrying'",
            uuid.UUID(str(task_id)),
        )
