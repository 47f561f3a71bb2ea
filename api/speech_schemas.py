"""Wire models of voice messages: the form fields that come with the recording."""

from __future__ import annotations

import uuid

from pydantic import Field

from api.schemas import Strict


class VoiceMessageForm(Strict):
    """The fields of a multipart voice message besides `audio` (the recording itself)."""

    conversation_id: uuid.UUID | None = None
    timezone: str | None = Field(default=None, max_length=64)
    speak: bool | None = Field(default=None, description="Synthesize the replies; default: your setting")


VOICE_MESSAGE_SCHEMA: dict[str, object] = {
    "schema": {
        "type": "object",
        "required": ["audio"],
        "properties": {
            "audio": {
                "type": "string",
                "format": "binary",
                "description": "The recording: WAV, FLAC, OGG/Opus, MP3 or M4A (checked by its magic number)",
            },
            "conversation_id": {"type": "string", "format": "uuid"},
            "timezone": {"type": "string", "maxLength": 64},
            "speak": {"type": "boolean"},
        },
    }
}
"""The multipart/form-data request body of POST /v1/messages, for the OpenAPI document."""
