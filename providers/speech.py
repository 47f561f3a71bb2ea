"""Speech providers for skills and the API: recognition (faster-whisper), the duration probe, the
voice (ElevenLabs with a key, behind a circuit breaker that falls back to espeak-ng; espeak-ng
alone otherwise), the repository and the limits.

Listed in providers.wiring.PORT_MODULES. Nothing heavy happens here: the recognition model is
loaded on first use, so processes that never transcribe (the API, other lanes) never pay for it.
"""

from __future__ import annotations

import logging

import asyncpg
import redis.asyncio as aioredis

from domain.errors import DomainError
from domain.speech import (
    AudioProbe,
    SpeechLimits,
    SpeechRepositories,
    SpeechSynthesizer,
    SpokenAudio,
    Transcriber,
    Voice,
)
from providers.breaker import CircuitBreaker, CircuitOpen
from providers.espeak_tts import EspeakSynthesizer
from providers.mutagen_audio import MutagenAudioProbe
from providers.postgres.speech import speech_repository
from providers.settings import Settings
from providers.whisper_stt import WhisperTranscriber

log = logging.getLogger(__name__)


class PreferredSynthesizer:
    """The primary voice (ElevenLabs) while it works; the fallback (the local voice) when it fails
    or while its circuit is open, so a reply is still spoken, in another voice."""

    def __init__(
        self, primary: SpeechSynthesizer, fallback: SpeechSynthesizer, breaker: CircuitBreaker
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.breaker = breaker

    def voice(self, language: str, rate: float) -> Voice:
        return self.primary.voice(language, rate)

    async def synthesize(self, text: str, voice: Voice) -> SpokenAudio:
        if voice == self.primary.voice(voice.language, voice.rate):
            try:
                return await self.breaker.call(lambda: self.primary.synthesize(text, voice))
            except (DomainError, CircuitOpen) as exc:
                log.warning("speaking with the fallback voice", extra={"error": repr(exc)})
            voice = self.fallback.voice(voice.language, voice.rate)
        return await self.fallback.synthesize(text, voice)

    async def aclose(self) -> None:
        for engine in (self.primary, self.fallback):
            closer = getattr(engine, "aclose", None)
            if closer is not None:
                await closer()


def synthesizer(settings: Settings) -> SpeechSynthesizer:
    local = EspeakSynthesizer(settings.espeak_voices, binary=settings.espeak_binary)
    if settings.elevenlabs_api_key is None:
        return local
    from providers.elevenlabs_tts import ElevenLabsSynthesizer

    remote = ElevenLabsSynthesizer(
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        base_url=settings.elevenlabs_base_url,
        timeout_seconds=settings.elevenlabs_timeout_seconds,
        model=settings.elevenlabs_model,
        voices=settings.elevenlabs_voices,
    )
    breaker = CircuitBreaker("elevenlabs", failure_threshold=3, reset_seconds=30, counts=(DomainError,))
    return PreferredSynthesizer(remote, local, breaker)


def limits(settings: Settings) -> SpeechLimits:
    return SpeechLimits(
        max_bytes=settings.speech_max_upload_bytes,
        max_seconds=settings.speech_max_seconds,
        audio_ttl_seconds=settings.speech_audio_ttl_hours * 3600,
        rate=settings.speech_rate,
    )


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    transcriber = WhisperTranscriber(
        settings.speech_model,
        compute_type=settings.speech_compute_type,
        threads=settings.speech_threads,
        beam_size=settings.speech_beam_size,
    )
    return {
        Transcriber: transcriber,
        AudioProbe: MutagenAudioProbe(),
        SpeechSynthesizer: synthesizer(settings),
        SpeechRepositories: speech_repository,
        SpeechLimits: limits(settings),
    }
