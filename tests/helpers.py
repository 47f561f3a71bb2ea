"""Shared test helpers: create users and tasks through the real repositories, wait for outcomes."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from domain.ids import uuid7
from domain.ports import Doorbell, NewTask
from domain.services import create_user
from domain.tasks import TERMINAL, Task, TaskStatus
from providers.wiring import Providers
from tests.skills import SCHEMA


async def make_user(providers: Providers) -> uuid.UUID:
    async with providers.uow() as uow:
        user, _ = await create_user(timezone="UTC", name=None, uow=uow)
    return user.id


async def ensure_probe_tables(providers: Providers) -> None:
    async with providers.pool.acquire() as conn:
        await conn.execute(SCHEMA)


async def enqueue(
    providers: Providers,
    user_id: uuid.UUID,
    kind: str,
    payload: dict[str, Any] | None = None,
    publish: bool = True,
) -> uuid.UUID:
    skill = providers.registry.get(kind)
    assert skill is not None
    new = NewTask(
        id=uuid7(),
        user_id=user_id,
        conversation_id=uuid7(),
        kind=kind,
        lane=skill.lane,
        intent="none",
        slots={},
        input=payload or {},
        parser="test",
        max_attempts=skill.retry.max_attempts,
        idempotency_key=None,
        request_hash=None,
        presumed_published=publish,
    )
    async with providers.uow() as uow:
        task = await uow.tasks.insert(new)
    assert task is not None
    if publish:
        assert await providers.streams.publish([Doorbell(task.id, task.lane, task.kind)])
    return task.id


async def get(providers: Providers, task_id: uuid.UUID) -> Task:
    async with providers.uow() as uow:
        task = await uow.tasks.get(task_id, None)
    assert task is not None
    return task


async def wait_for_status(
    providers: Providers,
    task_id: uuid.UUID,
    statuses: set[TaskStatus] | frozenset[TaskStatus] = TERMINAL,
    timeout: float = 20.0,
) -> Task:
    deadline = time.monotonic() + timeout
    while True:
        task = await get(providers, task_id)
        if task.status in statuses:
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} still {task.status} after {timeout}s")
        await asyncio.sleep(0.05)


async def count(providers: Providers, sql: str, *args: Any) -> int:
    async with providers.pool.acquire() as conn:
        return int(await conn.fetchval(sql, *args))


async def pipeline_round_trip(providers: Providers) -> dict[str, Any]:
    """The whole pipeline once on these providers: three probe tasks and one message through the
    API, run by an in-process worker; returns the message's task once it has succeeded. What the
    Redis topology tests (cluster, sentinel) check the pipeline with, unchanged."""
    import httpx

    from api.app import create_app
    from tests.conftest import new_user, running_worker

    await ensure_probe_tables(providers)
    user = await make_user(providers)
    ids = [await enqueue(providers, user, "probe", {}) for _ in range(3)]
    app = create_app(providers.settings, providers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            auth = await new_user(http)
            posted = await http.post("/v1/messages", json={"text": "hello there"}, headers=auth)
            assert posted.status_code == 202, posted.text
            status_url = f"{posted.json()['status_url']}?wait=10"
            async with running_worker(providers):
                for task_id in ids:
                    await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=30)
                answered: dict[str, Any] = (await http.get(status_url, headers=auth)).json()
                while answered["status"] != "succeeded":
                    answered = (await http.get(status_url, headers=auth)).json()
    return answered
