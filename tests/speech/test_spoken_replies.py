"""Spoken replies: audio_url on the task, served to its owner only; the phrase cache; ElevenLabs
(the real SDK against a local fake server) with the local voice as fallback; languages; cleanup."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx

from domain.skills import SkillContext
from domain.skills.speech import warm_up
from domain.speech import SWEDISH, SpeechLimits, SpeechRepositories, SpeechSynthesizer, SpokenAudio, Voice
from domain.speech_services import purge_speech, speak
from providers.speech import PreferredSynthesizer
from providers.whisper_stt import WhisperTranscriber
from providers.wiring import Providers
from tests.conftest import Services, new_user, running_worker
from tests.helpers import count, make_user
from tests.speech.conftest import app_with, finished
from tests.speech.fake_elevenlabs import fake_elevenlabs


class CountingSynthesizer:
    """The wired synthesizer, counting the phrases it is asked to synthesize."""

    def __init__(self, inner: SpeechSynthesizer) -> None:
        self.inner = inner
        self.spoken: list[str] = []

    def voice(self, language: str, rate: float) -> Voice:
        return self.inner.voice(language, rate)

    async def synthesize(self, text: str, voice: Voice) -> SpokenAudio:
        self.spoken.append(text)
        return await self.inner.synthesize(text, voice)


async def _speak(providers: Providers, user_id: uuid.UUID, text: str, language: str = "en") -> object:
    ports = providers.skill_ports
    return await speak(
        text,
        language,
        owner=(user_id, uuid.uuid4()),
        uow=providers.uow,
        speech=ports[SpeechRepositories],  # type: ignore[arg-type]
        synthesizer=ports[SpeechSynthesizer],  # type: ignore[arg-type]
        limits=ports[SpeechLimits],  # type: ignore[arg-type]
        clock=providers.clock,
    )


async def test_a_spoken_reply_is_served_to_its_owner_only(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    accepted = (
        await client.post("/v1/messages", json={"text": "hello there", "speak": True}, headers=auth)
    ).json()
    async with running_worker(providers):
        task = await finished(client, auth, accepted["task_id"])
    assert task["status"] == "succeeded" and task["reply"] == "Hello! How can I help you today?"
    audio_url = task["result"]["audio_url"]
    assert audio_url.startswith("/v1/audio/")
    audio = await client.get(audio_url, headers=auth)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) > 10_000
    other = await new_user(client)
    stolen = await client.get(audio_url, headers=other)
    assert stolen.status_code == 404 and stolen.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/v1/audio/{uuid.uuid4()}", headers=auth)).status_code == 404
    # Without speak (and without the setting) there is no audio.
    quiet = (await client.post("/v1/messages", json={"text": "hello again"}, headers=auth)).json()
    async with running_worker(providers):
        assert "audio_url" not in ((await finished(client, auth, quiet["task_id"]))["result"] or {})


async def test_the_user_setting_speaks_every_reply_in_their_language(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    me = await client.patch("/v1/me", json={"speak": True, "language": "sv"}, headers=auth)
    assert me.status_code == 200 and me.json()["speak"] is True and me.json()["language"] == "sv"
    accepted = (await client.post("/v1/messages", json={"text": "hello"}, headers=auth)).json()
    async with running_worker(providers):
        task = await finished(client, auth, accepted["task_id"])
    assert task["reply"] == SWEDISH["Hello! How can I help you today?"]
    assert (await client.get(task["result"]["audio_url"], headers=auth)).status_code == 200
    voices = await count(
        providers, "SELECT count(*) FROM speech_cache WHERE voice = 'sv' AND text = $1", task["reply"]
    )
    assert voices == 1


async def test_the_language_is_detected_when_not_set(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    accepted = (
        await client.post("/v1/messages", json={"text": "tack så mycket för hjälpen"}, headers=auth)
    ).json()
    async with running_worker(providers):
        task = await finished(client, auth, accepted["task_id"])
    assert task["reply"] == SWEDISH["You're welcome."]


async def test_a_repeated_phrase_comes_from_the_cache(providers: Providers) -> None:
    counting = CountingSynthesizer(providers.skill_ports[SpeechSynthesizer])  # type: ignore[arg-type]
    providers.skill_ports[SpeechSynthesizer] = counting
    user_id = await make_user(providers)
    phrase = f"Your taxi comes at {uuid.uuid4().hex[:6]}."
    first = await _speak(providers, user_id, phrase)
    second = await _speak(providers, user_id, phrase)
    assert counting.spoken == [phrase]
    assert first.cached is False and second.cached is True  # type: ignore[attr-defined]
    assert first.audio_id != second.audio_id  # type: ignore[attr-defined]
    slower = await speak(
        phrase,
        "en",
        owner=(user_id, uuid.uuid4()),
        uow=providers.uow,
        speech=providers.skill_ports[SpeechRepositories],  # type: ignore[arg-type]
        synthesizer=counting,
        limits=SpeechLimits(rate=0.8),
        clock=providers.clock,
    )
    assert slower.cached is False and counting.spoken == [phrase, phrase]  # another speed, another entry


async def test_common_phrases_are_synthesized_at_start_up(providers: Providers) -> None:
    counting = CountingSynthesizer(providers.skill_ports[SpeechSynthesizer])  # type: ignore[arg-type]
    providers.skill_ports[SpeechSynthesizer] = counting
    ctx = SkillContext("warm", providers.uow, providers.clock, providers.skill_ports)
    await warm_up(ctx)
    await warm_up(ctx)  # a second start finds them cached
    assert len(counting.spoken) == len(set(counting.spoken)) and "Okay, I'm on it." in counting.spoken
    counting.spoken.clear()
    reply = await _speak(providers, await make_user(providers), SWEDISH["Okay, I'm on it."], "sv")
    assert reply.cached is True and counting.spoken == []  # type: ignore[attr-defined]


async def test_elevenlabs_speaks_and_its_failure_falls_back_to_the_local_voice(
    services: Services, whisper: WhisperTranscriber
) -> None:
    with fake_elevenlabs() as fake:
        overrides = {"elevenlabs_api_key": "test-key", "elevenlabs_base_url": fake.url}
        async with app_with(services, whisper, **overrides) as (client, providers):
            synthesizer = providers.skill_ports[SpeechSynthesizer]
            assert isinstance(synthesizer, PreferredSynthesizer)
            auth = await new_user(client)
            first = (
                await client.post("/v1/messages", json={"text": "hello", "speak": True}, headers=auth)
            ).json()
            async with running_worker(providers):
                spoken = await finished(client, auth, first["task_id"])
            audio = await client.get(spoken["result"]["audio_url"], headers=auth)
            assert audio.headers["content-type"] == "audio/mpeg"
            assert fake.requests[0]["key"] == "test-key"
            assert fake.requests[0]["path"].startswith("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM")
            assert fake.requests[0]["json"]["text"] == "Hello! How can I help you today?"

            fake.failing = True
            second = (
                await client.post("/v1/messages", json={"text": "thank you", "speak": True}, headers=auth)
            ).json()
            async with running_worker(providers):
                fallback = await finished(client, auth, second["task_id"])
            audio = await client.get(fallback["result"]["audio_url"], headers=auth)
            assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
            assert audio.content[:4] == b"RIFF"  # espeak-ng spoke it
            assert len(fake.requests) == 3  # one call and one retry failed

            user_id = await make_user(providers)
            for n in range(3):  # the breaker opens after 3 failed calls; then ElevenLabs is not called
                await _speak(providers, user_id, f"phrase number {n}")
            calls = len(fake.requests)
            reply = await _speak(providers, user_id, "one more phrase")
            assert reply.engine == "espeak-ng" and len(fake.requests) == calls  # type: ignore[attr-defined]


async def test_expired_audio_is_gone_and_cleaned_up(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    accepted = (await client.post("/v1/messages", json={"text": "hello", "speak": True}, headers=auth)).json()
    async with running_worker(providers):
        task = await finished(client, auth, accepted["task_id"])
    audio_url = task["result"]["audio_url"]
    audio_id = uuid.UUID(audio_url.rsplit("/", 1)[1])
    async with providers.pool.acquire() as conn:
        await conn.execute(
            "UPDATE audio_files SET expires_at = now() - interval '1 second' WHERE id = $1", audio_id
        )
    assert (await client.get(audio_url, headers=auth)).status_code == 404
    async with providers.uow() as uow:
        deleted = await purge_speech(
            speech=providers.skill_ports[SpeechRepositories](uow),  # type: ignore[operator]
            clock=providers.clock,
            clip_retention_seconds=timedelta(hours=24).total_seconds(),
            cache_seconds=timedelta(days=30).total_seconds(),
        )
    assert deleted >= 1
    assert await count(providers, "SELECT count(*) FROM audio_files WHERE id = $1", audio_id) == 0


async def _once_spoken(client: httpx.AsyncClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    """The task, once a worker has added the audio of its reply (a minute at most)."""
    deadline = time.monotonic() + 60
    task: dict[str, Any] = (await client.get(f"/v1/tasks/{task_id}", headers=auth)).json()
    while "audio_url" not in (task["result"] or {}):
        assert time.monotonic() < deadline, task
        await asyncio.sleep(0.2)
        task = (await client.get(f"/v1/tasks/{task_id}", headers=auth)).json()
    return task


async def test_a_read_back_and_a_question_made_by_the_api_are_spoken_too(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    body = {"text": "tell my daughter I am home safe", "speak": True}
    accepted = (await client.post("/v1/messages", json=body, headers=auth)).json()
    assert accepted["status"] == "awaiting_confirmation", accepted
    asked = (
        await client.post("/v1/messages", json={"text": "book a table", "speak": True}, headers=auth)
    ).json()
    assert asked["status"] == "needs_input"
    async with running_worker(providers):
        for task_id in (accepted["task_id"], asked["task_id"]):
            task = await _once_spoken(client, auth, task_id)
            assert task["status"] in ("awaiting_confirmation", "needs_input")  # still waiting for the person
            audio = await client.get(task["result"]["audio_url"], headers=auth)
            assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    quiet = (await client.post("/v1/messages", json={"text": "book a table"}, headers=auth)).json()
    companions = await count(
        providers,
        "SELECT count(*) FROM tasks WHERE kind = 'speak_reply' AND input->>'for_task' = $1",
        quiet["task_id"],
    )
    assert companions == 0  # nothing is spoken unless asked


async def test_a_reply_made_by_the_api_is_in_swedish_and_spoken_with_the_swedish_voice(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    """A Swedish speaker's "nej" to a read-back: the API's own reply is put in Swedish, as workers
    do with theirs, and its audio is made with the Swedish voice."""
    me = await client.patch("/v1/me", json={"speak": True, "language": "sv"}, headers=auth)
    assert me.status_code == 200
    body = {"text": "tell my daughter I am home safe"}
    asked = (await client.post("/v1/messages", json=body, headers=auth)).json()
    assert asked["status"] == "awaiting_confirmation", asked
    no = {"text": "nej", "conversation_id": asked["conversation_id"]}
    answered = (await client.post("/v1/messages", json=no, headers=auth)).json()
    assert answered["task_id"] == asked["task_id"] and answered["status"] == "cancelled"
    reply = SWEDISH["All right, I won't do that."]
    async with running_worker(providers):
        task = await _once_spoken(client, auth, asked["task_id"])
    assert task["reply"] == reply
    spoken = await count(
        providers, "SELECT count(*) FROM speech_cache WHERE voice = 'sv' AND text = $1", reply
    )
    assert spoken == 1
