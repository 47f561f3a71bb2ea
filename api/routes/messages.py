"""POST /v1/messages: a person's message becomes a task."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.accepted import accepted_response
from api.auth import authenticate
from api.deps import require_json
from api.schemas import MessageAccepted, MessageIn, Problem
from api.speech_schemas import VOICE_MESSAGE_SCHEMA
from api.voice_messages import post_voice_message
from domain.services import IncomingMessage, accept_message
from providers.wiring import Providers

router = APIRouter(tags=["messages"])

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 404, 409, 413, 415, 422)
}

IDEMPOTENCY_KEY_MAX = 200

# The request is read by hand (see post_message), so its schema is declared here for /docs.
OPENAPI_REQUEST: dict[str, object] = {
    "parameters": [
        {
            "name": "idempotency-key",
            "in": "header",
            "required": False,
            "description": "Retry safely: the same key with the same body returns the same task",
            "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX, "title": "Idempotency-Key"},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": VOICE_MESSAGE_SCHEMA,
        },
    },
}


@router.post(
    "/v1/messages",
    status_code=202,
    response_model=None,
    responses={202: {"model": MessageAccepted}, **ERRORS, 503: ERRORS[422]},
    openapi_extra=OPENAPI_REQUEST,
)
async def post_message(request: Request) -> Response:
    """Accept a message: parse it, store the task, queue it. Poll `status_url` for the outcome.

    The same `Idempotency-Key` with the same body returns the same task; with another body, 409.

    A voice message (multipart/form-data, the recording in `audio`: WAV, FLAC, OGG/Opus, MP3 or
    M4A) becomes a `transcribe` task on the speech lane with the intent `pending`: when it has
    succeeded, its result carries the `transcript` and the `task_id` of the task the words became,
    parsed exactly as a text message. 413 for a recording over the size or duration limit, 415 for
    anything that is not one of those formats, 503 when no speech model is installed.
    """
    # The busiest route reads its request itself: FastAPI's dependency solving cost more per
    # request than the intent classifier (measured), and the checks are the same ones, in the
    # same order (415, 401, 422) with the same problem bodies.
    if require_json(request.headers, multipart=True):
        return await post_voice_message(request, _idempotency_key(request))
    providers: Providers = request.app.state.providers
    user = await authenticate(
        request.headers.get("authorization"), cache=request.app.state.token_cache, uow=providers.uow
    )
    body = _message(await request.body())
    msg = IncomingMessage(
        user, body.text, body.conversation_id, body.timezone, _idempotency_key(request), body.speak
    )
    async with providers.uow() as uow:
        accepted = await accept_message(
            msg,
            uow=uow,
            parser=providers.parser,
            registry=providers.registry,
            queue=providers.streams,
            clock=providers.clock,
        )
    return accepted_response(accepted.task, accepted.replayed)


def _message(raw: bytes) -> MessageIn:
    try:
        return MessageIn.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "idempotency-key"),
                    "msg": f"String should have at most {IDEMPOTENCY_KEY_MAX} characters",
                    "type": "string_too_long",
                }
            ]
        )
    return key
