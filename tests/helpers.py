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
