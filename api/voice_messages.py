"""The voice branch of POST /v1/messages: a multipart recording becomes a transcribe task.

Kept apart from the JSON path, which reads its request by hand for speed: the route checks the
content type first and sends multipart bodies here.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from api.accepted import accepted_response
from api.auth import authenticate
from api.speech_schemas import VoiceMessageForm
from domain.speech import AudioProbe, SpeechLimits, SpeechRepositories, Transcriber
from domain.speech_services import VoiceMessage, accept_voice_message
from providers.wiring import Providers

FIELDS = ("conversation_id", "timezone", "speak")


async def post_voice_message(request: Request, idempotency_key: str | None) -> Response:
    """401, then 422 for a form without `audio`, 415 / 413 / 503 from the use case."""
    providers: Providers = request.app.state.providers
    user = await authenticate(
        request.headers.get("authorization"), cache=request.app.state.token_cache, uow=providers.uow
    )
    try:
        async with request.form(max_files=1, max_fields=len(FIELDS)) as form:
            fields = _fields(form)
            audio = await _audio(form)
    except HTTPException as exc:  # a malformed form (Starlette says 400): the schema's 422
        raise RequestValidationError(
            [{"loc": ("body",), "msg": str(exc.detail), "type": "value_error"}]
        ) from None
    ports = providers.skill_ports
    speech: SpeechRepositories = ports[SpeechRepositories]  # type: ignore[assignment]
    msg = VoiceMessage(user, audio, fields.conversation_id, fields.timezone, fields.speak, idempotency_key)
    async with providers.uow() as uow:
        accepted = await accept_voice_message(
            msg,
            uow=uow,
            speech=speech(uow),
            probe=ports[AudioProbe],  # type: ignore[arg-type]
            transcriber=ports[Transcriber],  # type: ignore[arg-type]
            limits=ports[SpeechLimits],  # type: ignore[arg-type]
            queue=providers.streams,
        )
    return accepted_response(accepted.task, accepted.replayed)


def _fields(form: FormData) -> VoiceMessageForm:
    values = {name: value for name, value in form.multi_items() if name != "audio"}
    try:
        return VoiceMessageForm.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


async def _audio(form: FormData) -> bytes:
    upload = form.get("audio")
    if not isinstance(upload, UploadFile):
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "audio"),
                    "msg": "Send the recording as the file field `audio`",
                    "type": "missing",
                }
            ]
        )
    return await upload.read()
