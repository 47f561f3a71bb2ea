"""Spoken replies by ElevenLabs (the official SDK, pointed at ERRAND_ELEVENLABS_BASE_URL when set).

One call per phrase, retried once on a transient failure (tenacity); the SDK's errors are
translated here into TransientError (429, 5xx, the network) and PermanentError (a refused key, a
bad voice). The circuit breaker and the fallback to the local voice sit around this
(providers.speech.FallbackSynthesizer).
"""

from __future__ import annotations

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.types import VoiceSettings
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.errors import PermanentError, TransientError
from domain.speech import DEFAULT_LANGUAGE, SpokenAudio, Voice

ENGINE = "elevenlabs"
OUTPUT_FORMAT = "mp3_44100_64"


class ElevenLabsSynthesizer:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        timeout_seconds: float,
        model: str,
        voices: dict[str, str],
        attempts: int = 2,
    ) -> None:
        self._http = httpx.AsyncClient(timeout=timeout_seconds)
        self._client = AsyncElevenLabs(api_key=api_key, base_url=base_url, httpx_client=self._http)
        self._model = model
        self._voices = voices
        self._attempts = attempts

    def voice(self, language: str, rate: float) -> Voice:
        name = self._voices.get(language) or self._voices[DEFAULT_LANGUAGE]
        return Voice(ENGINE, name, language, rate)

    async def synthesize(self, text: str, voice: Voice) -> SpokenAudio:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        ):
            with attempt:
                audio = await self._once(text, voice)
        return SpokenAudio(audio, "audio/mpeg", voice)

    async def _once(self, text: str, voice: Voice) -> bytes:
        try:
            chunks = [
                chunk
                async for chunk in self._client.text_to_speech.convert(
                    voice.name,
                    text=text,
                    model_id=self._model,
                    output_format=OUTPUT_FORMAT,
                    voice_settings=VoiceSettings(speed=voice.rate),
                )
            ]
        except ApiError as exc:
            status = exc.status_code or 0
            if status == 429 or status >= 500:
                raise TransientError(f"ElevenLabs answered {status}") from exc
            raise PermanentError(f"ElevenLabs refused the request ({status})") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"ElevenLabs unreachable: {type(exc).__name__}") from exc
        audio = b"".join(chunks)
        if not audio:
            raise TransientError("ElevenLabs sent no audio")
        return audio

    async def aclose(self) -> None:
        await self._http.aclose()
