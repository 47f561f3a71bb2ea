"""Speech use cases: accept a voice message, transcribe it into a message, speak a reply, serve
and purge audio. Each receives its ports as keyword arguments and does no I/O of its own.

A voice message is stored with its `transcribe` task in one transaction and transcribed by a
speech-lane worker; the words then go through `accept_message`, as typed words do, so
conversations, read-backs and idempotency work the same for both.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from domain.errors import Conflict, NotFound, PermanentError
from domain.ids import uuid7
from domain.ports import Clock, Doorbell, IntentParser, NewTask, TaskQueue, UnitOfWork, UnitOfWorkFactory
from domain.services import Accepted, IncomingMessage, accept_message
from domain.skills import SkillRegistry
from domain.speech import (
    NO_SPEECH_REPLY,
    PENDING_INTENT,
    TRANSCRIBE_SKILL,
    AudioFile,
    AudioFormat,
    AudioProbe,
    AudioTooLarge,
    Clip,
    SpeechLimits,
    SpeechRepositories,
    SpeechRepository,
    SpeechSynthesizer,
    SpeechUnavailable,
    Transcriber,
    UnsupportedAudio,
    audio_file_id,
    cache_key,
    sniff_audio,
)
from domain.tasks import Lane, Outcome, Task
from domain.users import User, valid_timezone

TRANSCRIBE_ATTEMPTS = 3
MAX_TRANSCRIPT_CHARS = 4000


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    user: User
    audio: bytes
    conversation_id: uuid.UUID | None = None
    timezone: str | None = None
    speak: bool | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class MessagePorts:
    """What accepting a message takes besides a unit of work (the speech worker accepts the words)."""

    parser: IntentParser
    registry: SkillRegistry
    queue: TaskQueue
    clock: Clock


@dataclass(frozen=True, slots=True)
class SpokenReply:
    audio_id: uuid.UUID
    cached: bool
    """True when the phrase came from the cache (no synthesis)."""
    engine: str


def check_recording(audio: bytes, *, probe: AudioProbe, limits: SpeechLimits) -> tuple[AudioFormat, float]:
    """The recording's format and duration. Raises UnsupportedAudio for anything that is not WAV,
    FLAC, OGG, MP3 or M4A by its magic number (or cannot be read as one), AudioTooLarge over the
    limits."""
    if len(audio) > limits.max_bytes:
        raise AudioTooLarge(f"the recording is {len(audio)} bytes; the limit is {limits.max_bytes}")
    fmt = sniff_audio(audio[:64])
    if fmt is None:
        raise UnsupportedAudio("send a WAV, FLAC, OGG/Opus, MP3 or M4A recording")
    seconds = probe.duration(audio, fmt)
    if seconds > limits.max_seconds:
        raise AudioTooLarge(f"the recording lasts {seconds:.0f} s; the limit is {limits.max_seconds:.0f} s")
    return fmt, seconds


def voice_fingerprint(msg: VoiceMessage) -> str:
    """What makes two uploads with one Idempotency-Key 'the same'."""
    digest = hashlib.sha256(msg.audio)
    digest.update(f"\x1f{msg.conversation_id or ''}\x1f{msg.timezone or ''}\x1f{msg.speak}".encode())
    return digest.hexdigest()


async def accept_voice_message(
    msg: VoiceMessage,
    *,
    uow: UnitOfWork,
    speech: SpeechRepository,
    probe: AudioProbe,
    transcriber: Transcriber,
    limits: SpeechLimits,
    queue: TaskQueue,
) -> Accepted:
    """Store the recording and its `transcribe` task together (one transaction), then ring the
    speech lane. Nothing is stored for a refused recording. Raises UnsupportedAudio, AudioTooLarge,
    SpeechUnavailable (no speech model here), Conflict (Idempotency-Key reused with another body),
    NotFound (another user's conversation), InvalidInput (an unknown time zone)."""
    fmt, seconds = check_recording(msg.audio, probe=probe, limits=limits)
    missing = transcriber.available()
    if missing is not None:
        raise SpeechUnavailable(missing)
    timezone = valid_timezone(msg.timezone or msg.user.timezone)
    fingerprint = voice_fingerprint(msg) if msg.idempotency_key else None
    new = _transcribe_task(msg, fingerprint, timezone, fmt, seconds)
    async with uow.transaction():
        task = await uow.tasks.insert(new)
        if task is not None:
            await speech.add_clip(Clip(task.id, msg.user.id, fmt, msg.audio, seconds))
    if task is None:
        return await _earlier(msg.user, msg.idempotency_key, fingerprint, uow)
    if not await queue.publish([Doorbell(task.id, task.lane, task.kind)]):
        await uow.tasks.mark_unpublished(task.id)
    return Accepted(task=task, replayed=False)


def _transcribe_task(
    msg: VoiceMessage, fingerprint: str | None, timezone: str, fmt: AudioFormat, seconds: float
) -> NewTask:
    facts: dict[str, object] = {"timezone": timezone, "format": fmt.value, "seconds": round(seconds, 2)}
    if msg.speak or (msg.speak is None and msg.user.speak):
        facts["speak"] = True
    if msg.speak is not None:
        facts["speak_asked"] = msg.speak
    if msg.user.language:
        facts["language"] = msg.user.language
    return NewTask(
        id=uuid7(),
        user_id=msg.user.id,
        conversation_id=msg.conversation_id or uuid7(),
        kind=TRANSCRIBE_SKILL,
        lane=Lane.SPEECH,
        intent=PENDING_INTENT,
        slots={},
        input=facts,
        parser="speech",
        max_attempts=TRANSCRIBE_ATTEMPTS,
        idempotency_key=msg.idempotency_key,
        request_hash=fingerprint,
    )


async def _earlier(user: User, key: str | None, fingerprint: str | None, uow: UnitOfWork) -> Accepted:
    """The task an earlier upload with this key created; NotFound when the insert failed for a
    conversation that is not the user's."""
    earlier = await uow.tasks.by_idempotency_key(user.id, key) if key else None
    if earlier is None:
        raise NotFound("conversation not found")
    task, earlier_hash = earlier
    if earlier_hash != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request body")
    return Accepted(task=task, replayed=True)


async def transcribe_voice_message(
    task: Task,
    *,
    uow: UnitOfWorkFactory,
    speech: SpeechRepositories,
    transcriber: Transcriber,
    ports: MessagePorts,
) -> Outcome:
    """Transcribe the task's recording and accept the words as the person's message in the same
    conversation. Re-runs are safe: the message carries an idempotency key derived from this task.
    Raises PermanentError when the recording is gone or undecodable, SpeechUnavailable (no model)."""
    async with uow() as work:
        clip = await speech(work).clip(task.id)
        user = await work.users.get(task.user_id)
    if clip is None or user is None:
        raise PermanentError("the recording is no longer stored")
    transcript = await transcriber.transcribe(clip.audio, language=user.language)
    text = transcript.text.strip()[:MAX_TRANSCRIPT_CHARS]
    result: dict[str, object] = {
        "kind": "transcript",
        "transcript": text,
        "language": transcript.language,
        "seconds": round(transcript.seconds, 2),
        "model": transcript.model,
    }
    if not text:
        return Outcome.succeeded(reply=NO_SPEECH_REPLY, result=result)
    speak = task.input.get("speak_asked")
    msg = IncomingMessage(
        user,
        text,
        conversation_id=task.conversation_id,
        timezone=str(task.input.get("timezone") or user.timezone),
        idempotency_key=f"speech:{task.id}",
        speak=speak if isinstance(speak, bool) else None,
        language=transcript.language,
    )
    parsed = await _accept_once(msg, uow=uow, ports=ports)
    result |= {"task_id": str(parsed.id), "intent": parsed.intent, "status": parsed.status.value}
    return Outcome.succeeded(reply=parsed.reply, result=result)


async def _accept_once(msg: IncomingMessage, *, uow: UnitOfWorkFactory, ports: MessagePorts) -> Task:
    """accept_message; on a re-run whose transcript came out different, the task of the first run."""
    async with uow() as work:
        try:
            accepted = await accept_message(
                msg,
                uow=work,
                parser=ports.parser,
                registry=ports.registry,
                queue=ports.queue,
                clock=ports.clock,
            )
        except Conflict:
            assert msg.idempotency_key is not None
            earlier = await work.tasks.by_idempotency_key(msg.user.id, msg.idempotency_key)
            if earlier is None:
                raise
            return earlier[0]
    return accepted.task


async def speak(
    text: str,
    language: str,
    *,
    owner: tuple[uuid.UUID, uuid.UUID],
    uow: UnitOfWorkFactory,
    speech: SpeechRepositories,
    synthesizer: SpeechSynthesizer,
    limits: SpeechLimits,
    clock: Clock,
) -> SpokenReply:
    """A downloadable recording of `text` for `owner` (user id, task id). A phrase already in the
    cache (same text, voice, language and speed) is not synthesized again. No database connection
    is held while synthesizing. Raises SpeechUnavailable, TransientError."""
    user_id, task_id = owner
    voice = synthesizer.voice(language, limits.rate)
    key = cache_key(text, voice)
    async with uow() as work:
        hit = await speech(work).cached(key)
    engine = voice.engine
    if hit is None:
        spoken = await synthesizer.synthesize(text, voice)
        key, engine = cache_key(text, spoken.voice), spoken.voice.engine
    audio_id = audio_file_id(task_id, key)
    expires = clock.now() + timedelta(seconds=limits.audio_ttl_seconds)
    async with uow() as work:
        repo = speech(work)
        async with work.transaction():
            if hit is None:
                await repo.cache(key, text, spoken)
            await repo.add_audio_file(audio_id, user_id, key, expires)
    return SpokenReply(audio_id, cached=hit is not None, engine=engine)


async def presynthesize(
    phrases: list[tuple[str, str]],
    *,
    uow: UnitOfWorkFactory,
    speech: SpeechRepositories,
    synthesizer: SpeechSynthesizer,
    limits: SpeechLimits,
) -> int:
    """Put the phrases ((text, language) pairs) in the cache; returns how many were synthesized."""
    made = 0
    for text, language in phrases:
        voice = synthesizer.voice(language, limits.rate)
        async with uow() as work:
            if await speech(work).cached(cache_key(text, voice)) is not None:
                continue
        spoken = await synthesizer.synthesize(text, voice)
        async with uow() as work:
            await speech(work).cache(cache_key(text, spoken.voice), text, spoken)
        made += 1
    return made


async def get_audio(user: User, audio_id: uuid.UUID, *, speech: SpeechRepository, clock: Clock) -> AudioFile:
    """The user's spoken reply. NotFound for another user's, an expired or an unknown one."""
    found = await speech.audio_file(audio_id, user.id, clock.now())
    if found is None:
        raise NotFound("audio not found")
    return found


async def purge_speech(
    *, speech: SpeechRepository, clock: Clock, clip_retention_seconds: float, cache_seconds: float
) -> int:
    """Delete expired spoken replies, transcribed recordings (and those never transcribed after the
    retention) and phrases unused for `cache_seconds`. Returns the rows deleted."""
    return await speech.purge(clock.now(), clip_retention_seconds, cache_seconds)
