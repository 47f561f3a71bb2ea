"""Task status: one task (optionally long-polled), its events, and the caller's task list."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ProvidersDep, UserDep
from api.routes.messages import ERRORS
from api.schemas import EventOut, TaskOut, TaskPage
from domain.errors import InvalidInput
from domain.services import MAX_WAIT_SECONDS, get_task, list_tasks, wait_for_task
from domain.tasks import TaskStatus

router = APIRouter(tags=["tasks"])


def encode_cursor(task_id: uuid.UUID | None) -> str | None:
    return base64.urlsafe_b64encode(task_id.bytes).decode().rstrip("=") if task_id else None


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("cursor is not one this API returned") from exc


@router.get("/v1/tasks/{task_id}", response_model=TaskOut, responses=ERRORS)
async def read_task(
    task_id: uuid.UUID,
    user: UserDep,
    providers: ProvidersDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Hold up to N s for a change")] = 0,
) -> TaskOut:
    """The task. With `wait`, the answer comes when its status changes or after `wait` seconds."""
    if wait:
        task = await wait_for_task(user, task_id, wait, uow_factory=providers.uow, updates=providers.updates)
    else:
        async with providers.uow() as uow:
            task = await get_task(user, task_id, uow=uow)
    return TaskOut.of(task)


@router.get("/v1/tasks/{task_id}/events", response_model=list[EventOut], responses=ERRORS)
async def read_task_events(task_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> list[EventOut]:
    """Every status transition of the task, oldest first, with its time and reason."""
    async with providers.uow() as uow:
        await get_task(user, task_id, uow=uow)
        events = await uow.tasks.events(task_id)
    return [EventOut.of(e) for e in events]


@router.get("/v1/tasks", response_model=TaskPage, responses=ERRORS)
async def read_tasks(
    user: UserDep,
    providers: ProvidersDep,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> TaskPage:
    """The caller's tasks, newest first."""
    async with providers.uow() as uow:
        tasks, next_id = await list_tasks(
            user, status=status, limit=limit, cursor=decode_cursor(cursor), uow=uow
        )
    return TaskPage(items=[TaskOut.of(t) for t in tasks], next_cursor=encode_cursor(next_id))
