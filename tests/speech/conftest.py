"""Speech tests: the real Whisper tiny.en model (loaded once per session), real espeak-ng, real
PostgreSQL and Redis; ElevenLabs is a local fake server driven by the real SDK.

The recordings are made here with espeak-ng, so the tests need it (CI installs it)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from domain.speech import Transcriber, Transcript
from providers.settings import Settings
from providers.whisper_stt import WhisperTranscriber
from providers.wiring import Providers, build_providers
from tests.conftest import Services, make_settings

REMINDER_PHRASE = "remind me to call my daughter tomorrow at ten a m"
GREETING_PHRASE = "hello, how are you today"


def espeak_wav(path: Path, text: str, voice: str = "en-us") -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.fail("the speech tests need espeak-ng: apt-get install espeak-ng (.ci/run installs it)")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text], check=True)
    return path.read_bytes()


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """WAV recordings made with espeak-ng, by name."""
    folder = tmp_path_factory.mktemp("recordings")
    return {
        "reminder": espeak_wav(folder / "reminder.wav", REMINDER_PHRASE),
        "greeting": espeak_wav(folder / "greeting.wav", GREETING_PHRASE),
    }


class SharedTranscriber:
    """The session's model behind each test's providers (no `aclose`, so closing one test's
    providers leaves the model loaded for the next)."""

    def __init__(self, inner: WhisperTranscriber) -> None:
        self.inner = inner

    def available(self) -> str | None:
        return self.inner.available()

    async def load(self) -> None:
        await self.inner.load()

    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        return await self.inner.transcribe(audio, language=language)


@pytest.fixture(scope="session")
def whisper() -> Iterator[WhisperTranscriber]:
    transcriber = WhisperTranscriber("tiny.en", threads=2)
    asyncio.run(transcriber.load())
    yield transcriber
    asyncio.run(transcriber.aclose())


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(services)


@pytest.fixture
async def providers(providers: Providers, whisper: WhisperTranscriber) -> AsyncIterator[Providers]:
    if isinstance(providers.skill_ports[Transcriber], WhisperTranscriber):
        providers.skill_ports[Transcriber] = SharedTranscriber(whisper)
    yield providers


async def post_audio(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    audio: bytes,
    filename: str = "message.wav",
    content_type: str = "audio/wav",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        "/v1/messages", files={"audio": (filename, audio, content_type)}, data=fields, headers=auth
    )


async def finished(client: httpx.AsyncClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    """The task once it has left queued/running/retrying, within 60 s."""
    deadline = time.monotonic() + 60
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        task = (await client.get(f"/v1/tasks/{task_id}", params={"wait": 5}, headers=auth)).json()
        if task["status"] not in ("queued", "running", "retrying"):
            return task
    raise AssertionError(f"task {task_id} did not finish: {task}")


@contextlib.asynccontextmanager
async def app_with(
    services: Services, whisper: WhisperTranscriber, **overrides: object
) -> AsyncIterator[tuple[httpx.AsyncClient, Providers]]:
    """A client over an app with settings of its own (limits, a model, ElevenLabs), and its providers."""
    settings = make_settings(services, **overrides)
    built = await build_providers(settings)
    if isinstance(built.skill_ports[Transcriber], WhisperTranscriber) and settings.speech_model == "tiny.en":
        built.skill_ports[Transcriber] = SharedTranscriber(whisper)
    app = create_app(settings, built)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
                yield http, built
    finally:
        await built.aclose()
