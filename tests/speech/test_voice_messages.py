"""Voice messages: upload -> transcript -> the same task a typed message makes; bad uploads are
413/415 problems that store nothing; a missing model is a 503 that says how to install one."""

from __future__ import annotations

import uuid

import httpx

from providers.whisper_stt import WhisperTranscriber
from providers.wiring import Providers
from tests.conftest import Services, new_user, running_worker
from tests.helpers import count
from tests.speech.conftest import app_with, finished, post_audio


async def test_voice_message_is_transcribed_and_parsed_like_text(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers, recordings: dict[str, bytes]
) -> None:
    accepted = await post_audio(client, auth, recordings["reminder"])
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert set(body) == {"task_id", "conversation_id", "status", "intent", "status_url"}
    assert body["status"] == "queued" and body["intent"] == "pending"
    async with running_worker(providers):
        speech_task = await finished(client, auth, body["task_id"])
    assert speech_task["status"] == "succeeded", speech_task
    result = speech_task["result"]
    words = result["transcript"].lower()
    assert "remind me to call my daughter tomorrow" in words, words
    assert result["intent"] == "set_reminder"
    parsed = (await client.get(f"/v1/tasks/{result['task_id']}", headers=auth)).json()
    assert parsed["intent"] == "set_reminder"
    assert parsed["conversation_id"] == body["conversation_id"]
    assert parsed["slots"]["what"] and parsed["slots"]["start"].startswith(parsed["slots"]["start"][:4])
    # Reminders are read back first (the user's default): the question is the voice task's reply too.
    assert parsed["status"] == "awaiting_confirmation"
    assert speech_task["reply"] == parsed["reply"] and "daughter" in parsed["reply"].lower()
    assert (
        await count(
            providers, "SELECT count(*) FROM speech_clips WHERE task_id = $1", uuid.UUID(body["task_id"])
        )
        == 1
    )


async def test_a_spoken_yes_confirms_the_waiting_task(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers, tmp_path: object
) -> None:
    from pathlib import Path

    from tests.speech.conftest import espeak_wav

    first = (
        await client.post(
            "/v1/messages", json={"text": "remind me to call my daughter tomorrow at 10"}, headers=auth
        )
    ).json()
    assert first["status"] == "awaiting_confirmation"
    yes = espeak_wav(Path(str(tmp_path)) / "yes.wav", "yes please")
    accepted = await post_audio(client, auth, yes, conversation_id=first["conversation_id"])
    assert accepted.status_code == 202, accepted.text
    async with running_worker(providers):
        speech_task = await finished(client, auth, accepted.json()["task_id"])
        assert speech_task["result"]["task_id"] == first["task_id"], speech_task
        confirmed = await finished(client, auth, first["task_id"])
    assert confirmed["status"] == "succeeded", confirmed
    assert confirmed["result"]["kind"] == "reminder_set"


async def _nothing_stored(providers: Providers, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.get("/v1/tasks", headers=auth)).json()["items"] == []
    me = (await client.get("/v1/me", headers=auth)).json()
    assert (
        await count(providers, "SELECT count(*) FROM speech_clips WHERE user_id = $1", uuid.UUID(me["id"]))
        == 0
    )


async def test_wrong_magic_number_is_415_and_stores_nothing(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    for fake in (b"%PDF-1.7 not a recording at all" * 10, b"just some text\n" * 50, b""):
        response = await post_audio(client, auth, fake, filename="message.wav", content_type="audio/wav")
        assert response.status_code == 415, (fake[:10], response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert "WAV" in response.json()["detail"]
    # A WAV header over garbage: the magic number is right, the file is not.
    broken = b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(200)
    assert (await post_audio(client, auth, broken)).status_code == 415
    await _nothing_stored(providers, client, auth)


async def test_too_large_and_too_long_are_413_and_store_nothing(
    services: Services, whisper: WhisperTranscriber, recordings: dict[str, bytes]
) -> None:
    clip = recordings["reminder"]  # about 3.7 s, 120 kB
    async with app_with(services, whisper, speech_max_upload_bytes=32 * 1024) as (client, providers):
        auth = await new_user(client)
        too_large = await post_audio(client, auth, clip)
        assert too_large.status_code == 413, too_large.text
        assert too_large.headers["content-type"] == "application/problem+json"
        await _nothing_stored(providers, client, auth)
        # Beyond the multipart allowance the edge refuses before reading the body.
        huge = await post_audio(client, auth, clip * 2)
        assert huge.status_code == 413
    async with app_with(services, whisper, speech_max_seconds=2.0) as (client, providers):
        auth = await new_user(client)
        too_long = await post_audio(client, auth, clip)
        assert too_long.status_code == 413, too_long.text
        assert "2 s" in too_long.json()["detail"]
        await _nothing_stored(providers, client, auth)


async def test_json_bodies_keep_their_limit_and_other_types_are_415(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    big = await client.post(
        "/v1/messages",
        content=b'{"text": "' + b"a" * 70_000 + b'"}',
        headers={**auth, "content-type": "application/json"},
    )
    assert big.status_code == 413
    plain = await client.post(
        "/v1/messages", content=b"hello", headers={**auth, "content-type": "text/plain"}
    )
    assert plain.status_code == 415 and "multipart/form-data" in plain.json()["detail"]
    other = await client.post(
        "/v1/parse", content=b"--x--", headers={**auth, "content-type": "multipart/form-data; boundary=x"}
    )
    assert other.status_code == 415  # multipart is taken by POST /v1/messages only


async def test_form_fields_are_validated(
    client: httpx.AsyncClient, auth: dict[str, str], recordings: dict[str, bytes]
) -> None:
    no_audio = await client.post(
        "/v1/messages", data={"timezone": "UTC"}, files={"other": ("x", b"x")}, headers=auth
    )
    assert no_audio.status_code == 422
    bad_conversation = await post_audio(client, auth, recordings["greeting"], conversation_id="nope")
    assert bad_conversation.status_code == 422
    assert bad_conversation.json()["errors"][0]["loc"] == ["body", "conversation_id"]
    other = await new_user(client)
    mine = (await client.post("/v1/messages", json={"text": "hi"}, headers=auth)).json()
    hijack = await post_audio(client, other, recordings["greeting"], conversation_id=mine["conversation_id"])
    assert hijack.status_code == 404
    unauthenticated = await post_audio(client, {}, recordings["greeting"])
    assert unauthenticated.status_code == 401


async def test_idempotency_key_replays_a_voice_message(
    client: httpx.AsyncClient, auth: dict[str, str], recordings: dict[str, bytes]
) -> None:
    key = {**auth, "Idempotency-Key": "voice-1"}
    first = await post_audio(client, key, recordings["greeting"])
    again = await post_audio(client, key, recordings["greeting"])
    assert first.status_code == again.status_code == 202
    assert again.json()["task_id"] == first.json()["task_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await post_audio(client, key, recordings["reminder"])
    assert other.status_code == 409


async def test_missing_model_is_a_503_saying_how_to_install_one(
    services: Services, whisper: WhisperTranscriber, recordings: dict[str, bytes], tmp_path: object
) -> None:
    async with app_with(services, whisper, speech_model=str(tmp_path)) as (client, providers):
        auth = await new_user(client)
        response = await post_audio(client, auth, recordings["greeting"])
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "pip install 'errand[speech]'" in response.json()["detail"]
        await _nothing_stored(providers, client, auth)


async def test_openapi_declares_json_and_multipart_bodies(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    content = spec["paths"]["/v1/messages"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert "speak" in content["application/json"]["schema"]["properties"]
    form = content["multipart/form-data"]["schema"]
    assert form["required"] == ["audio"]
    assert set(form["properties"]) == {"audio", "conversation_id", "timezone", "speak"}
    assert "/v1/audio/{audio_id}" in spec["paths"]
