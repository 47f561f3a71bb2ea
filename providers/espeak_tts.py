"""The offline voice: espeak-ng, run as a subprocess per phrase (WAV out). Robotic but always there
when the package is installed (`apt-get install espeak-ng`); without it, a clear SpeechUnavailable."""

from __future__ import annotations

import asyncio
import shutil

from domain.errors import TransientError
from domain.speech import DEFAULT_LANGUAGE, SpeechUnavailable, SpokenAudio, Voice

ENGINE = "espeak-ng"
WORDS_PER_MINUTE = 160
"""espeak-ng's speed at rate 1.0: a little slower than its default 175."""
MISSING = "the offline voice needs espeak-ng (apt-get install espeak-ng), or set ERRAND_ELEVENLABS_API_KEY"


class EspeakSynthesizer:
    def __init__(
        self, voices: dict[str, str], *, binary: str = "espeak-ng", timeout_seconds: float = 15.0
    ) -> None:
        self._voices = voices
        self._binary = binary
        self._timeout = timeout_seconds

    def available(self) -> str | None:
        return None if shutil.which(self._binary) else MISSING

    def voice(self, language: str, rate: float) -> Voice:
        name = self._voices.get(language) or self._voices.get(DEFAULT_LANGUAGE, "en")
        return Voice(ENGINE, name, language, rate)

    async def synthesize(self, text: str, voice: Voice) -> SpokenAudio:
        """The text goes in on standard input, never as an argument."""
        executable = shutil.which(self._binary)
        if executable is None:
            raise SpeechUnavailable(MISSING)
        speed = str(round(WORDS_PER_MINUTE * voice.rate))
        proc = await asyncio.create_subprocess_exec(
            executable,
            "-v",
            voice.name,
            "-s",
            speed,
            "-b",
            "1",  # UTF-8 input
            "--stdout",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(self._timeout):
                audio, errors = await proc.communicate(text.encode())
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise TransientError("espeak-ng did not finish in time") from None
        if proc.returncode != 0 or not audio.startswith(b"RIFF"):
            raise TransientError(f"espeak-ng failed: {errors.decode(errors='replace')[:200]}")
        return SpokenAudio(audio, "audio/wav", voice)
