"""POST /v1/messages: a person's message becomes a task."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Response

from api.deps import JsonOnly, ProvidersDep, UserDep
from api.schemas import MessageAccepted, MessageIn, Problem
from domain.services import IncomingMessage, accept_message

router = APIRouter(tags=["messages"])

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 404, 409, 413, 415, 422)
}


@router.post(
    "/v1/messages",
    status_code=202,
    response_model=None,
    responses={202: {"model": MessageAccepted}, **ERRORS},
    dependencies=[JsonOnly],
)
async def post_message(
    body: MessageIn,
    user: UserDep,
    providers: ProvidersDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Accept a message: parse it, store the task, queue it. Poll `status_url` for the outcome.

    The same `Idempotency-Key` with the same body returns the same task; with another body, 409.
    """
    msg = IncomingMessage(user, body.text, body.conversation_id, body.timezone, idempotency_key)
    async with providers.uow() as uow:
        accepted = await accept_message(
            msg,
            uow=uow,
            parser=providers.parser,
            registry=providers.registry,
            queue=providers.streams,
            clock=providers.clock,
        )
    task = accepted.task
    answer = {
        "task_id": str(task.id),
        "conversation_id": str(task.conversation_id),
        "status": task.status.value,
        "intent": task.intent,
        "status_url": f"/v1/tasks/{task.id}",
    }
    # Serialized directly (the shape is MessageAccepted, documented above): this is the hot path.
    headers = {"Idempotent-Replayed": "true"} if accepted.replayed else None
    return Response(orjson.dumps(answer), status_code=202, media_type="application/json", headers=headers)
