"""Operator routes: the dead-letter queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminDep, ProvidersDep
from api.routes.messages import ERRORS
from api.routes.tasks import decode_cursor, encode_cursor
from api.schemas import DeadLetterOut, DeadLetterPage, TaskOut
from domain.services import list_dead_letters, replay_dead_letter

router = APIRouter(tags=["admin"], prefix="/v1/admin")


@router.get("/dlq", response_model=DeadLetterPage, responses=ERRORS)
async def read_dlq(
    _: AdminDep,
    providers: ProvidersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DeadLetterPage:
    """Dead-lettered tasks, newest first, with their last error."""
    async with providers.uow() as uow:
        tasks, next_id = await list_dead_letters(limit=limit, cursor=decode_cursor(cursor), uow=uow)
    return DeadLetterPage(items=[DeadLetterOut.of(t) for t in tasks], next_cursor=encode_cursor(next_id))


@router.post("/dlq/{task_id}/replay", status_code=202, response_model=TaskOut, responses=ERRORS)
async def replay(task_id: uuid.UUID, _: AdminDep, providers: ProvidersDep) -> TaskOut:
    """Queue a dead-lettered task again, with its attempts reset."""
    async with providers.uow() as uow:
        task = await replay_dead_letter(task_id, uow=uow, queue=providers.streams, dlq=providers.streams)
    return TaskOut.of(task)
