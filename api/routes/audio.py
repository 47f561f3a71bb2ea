"""GET /v1/audio/{id}: a spoken reply, to its owner only, until it expires."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.deps import ProvidersDep, UserDep
from api.routes.messages import ERRORS
from domain.speech import SpeechRepositories
from domain.speech_services import get_audio

router = APIRouter(tags=["speech"])

AUDIO_TYPES: dict[str, object] = {"audio/mpeg": {}, "audio/wav": {}}


@router.get(
    "/v1/audio/{audio_id}",
    response_class=Response,
    responses={200: {"content": AUDIO_TYPES, "description": "The recording"}, **ERRORS},
)
async def read_audio(audio_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> Response:
    """The audio of a reply (the `audio_url` of a task's result). Another user's, an expired or an
    unknown one is a 404."""
    speech: SpeechRepositories = providers.skill_ports[SpeechRepositories]  # type: ignore[assignment]
    async with providers.uow() as uow:
        found = await get_audio(user, audio_id, speech=speech(uow), clock=providers.clock)
    return Response(
        found.audio, media_type=found.media_type, headers={"Cache-Control": "private, max-age=3600"}
    )
