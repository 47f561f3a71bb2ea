"""Speech skills (lane `speech`): transcribe a voice message into a message; and the step every
worker applies to a finished task's reply: put it in the person's language and, when they asked
for it, speak it (an `audio_url` in the result).

Only the speech lane's workers load the recognition model (once per process, on first use or at
start-up through `warm_up`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from typing import Any

from domain.errors import DomainError, PermanentError
from domain.ports import IntentParser, TaskQueue
from domain.skills import Skill, SkillContext, SkillRegistry
from domain.speech import (
    SPEAK_REPLY_SKILL,
    TRANSCRIBE_SKILL,
    SpeechLimits,
    SpeechRepositories,
    SpeechSynthesizer,
    Transcriber,
    audio_path,
    localize,
    phrases_to_presynthesize,
    reply_language,
)
from domain.speech_services import MessagePorts, presynthesize, speak, transcribe_voice_message
from domain.tasks import Lane, Outcome, RetryPolicy, Task

log = logging.getLogger(__name__)

SPEAK_TIMEOUT_SECONDS = 12.0
"""A reply not spoken by then is sent without audio (`audio_error` says why)."""


async def transcribe(task: Task, ctx: SkillContext) -> Outcome:
    if ctx.clock is None:
        raise LookupError("the transcribe skill needs a clock")
    ports = MessagePorts(
        parser=ctx.port(IntentParser),
        registry=ctx.port(SkillRegistry),
        queue=ctx.port(TaskQueue),
        clock=ctx.clock,
    )
    return await transcribe_voice_message(
        task,
        uow=ctx.uow,
        speech=ctx.port(SpeechRepositories),
        transcriber=ctx.port(Transcriber),
        ports=ports,
    )


TRANSCRIBE = Skill(
    name=TRANSCRIBE_SKILL,
    lane=Lane.SPEECH,
    handler=transcribe,
    retry=RetryPolicy(max_attempts=3, base_seconds=1.0, cap_seconds=30.0),
    timeout_seconds=180.0,
)


async def speak_reply(task: Task, ctx: SkillContext) -> Outcome:
    """Speak a question or read-back the API put on a waiting task, and add the audio to it."""
    synthesizer = _optional(ctx, SpeechSynthesizer)
    if synthesizer is None or ctx.clock is None:
        raise PermanentError("no voice is configured on this worker")
    for_task = uuid.UUID(str(task.input["for_task"]))
    text = str(task.input["text"])
    language = reply_language(task.input.get("language"), None, text)
    words, spoken_in = localize(text, language)
    spoken = await speak(
        words,
        spoken_in,
        owner=(task.user_id, for_task),
        uow=ctx.uow,
        speech=ctx.port(SpeechRepositories),
        synthesizer=synthesizer,
        limits=_optional(ctx, SpeechLimits) or SpeechLimits(),
        clock=ctx.clock,
    )
    url = audio_path(spoken.audio_id)
    speech: SpeechRepositories = ctx.port(SpeechRepositories)
    async with ctx.uow() as work:
        attached = await speech(work).attach_audio(for_task, task.user_id, text, url)
    return Outcome.succeeded(result={"audio_url": url, "for_task": str(for_task), "attached": attached})


SPEAK_REPLY = Skill(
    name=SPEAK_REPLY_SKILL,
    lane=Lane.SPEECH,
    handler=speak_reply,
    retry=RetryPolicy(max_attempts=3, base_seconds=1.0, cap_seconds=30.0),
    timeout_seconds=30.0,
)

SKILLS = [TRANSCRIBE, SPEAK_REPLY]
ROUTES: dict[str, str] = {}


def _optional(ctx: SkillContext, kind: type[Any]) -> Any:
    try:
        return ctx.port(kind)
    except LookupError:
        return None


def persons_language(task: Task, heard: str | None = None) -> str:
    """The language to answer a task's person in: their setting (copied onto the task), else the
    language the recogniser heard, else the one their message was written in."""
    return reply_language(task.input.get("language"), heard, str(task.input.get("text", "")))


async def finish_reply(task: Task, outcome: Outcome, ctx: SkillContext) -> Outcome:
    """The outcome with its reply in the person's language and, for a task that should speak, the
    `audio_url` of the spoken reply. Speech failing never fails the task: the result then says
    why in `audio_error`."""
    if not outcome.reply:
        return outcome
    reply, spoken_in = localize(outcome.reply, persons_language(task, (outcome.result or {}).get("language")))
    if reply != outcome.reply:
        outcome = replace(outcome, reply=reply)
    synthesizer = _optional(ctx, SpeechSynthesizer)
    if not task.input.get("speak") or synthesizer is None or ctx.clock is None:
        return outcome
    result = dict(outcome.result or {})
    try:
        async with asyncio.timeout(SPEAK_TIMEOUT_SECONDS):
            spoken = await speak(
                reply,
                spoken_in,
                owner=(task.user_id, task.id),
                uow=ctx.uow,
                speech=ctx.port(SpeechRepositories),
                synthesizer=synthesizer,
                limits=_optional(ctx, SpeechLimits) or SpeechLimits(),
                clock=ctx.clock,
            )
    except (DomainError, TimeoutError) as exc:
        log.warning("reply not spoken", extra={"task_id": str(task.id), "error": repr(exc)})
        result["audio_error"] = str(exc) or type(exc).__name__
    else:
        result["audio_url"] = audio_path(spoken.audio_id)
    return replace(outcome, result=result)


async def warm_up(ctx: SkillContext) -> int:
    """At a speech worker's start: load the recognition model and cache the common phrases in
    every voice. Returns how many phrases were synthesized."""
    transcriber = _optional(ctx, Transcriber)
    if transcriber is not None and transcriber.available() is None:
        await transcriber.load()
    synthesizer = _optional(ctx, SpeechSynthesizer)
    if synthesizer is None:
        return 0
    return await presynthesize(
        phrases_to_presynthesize(),
        uow=ctx.uow,
        speech=ctx.port(SpeechRepositories),
        synthesizer=synthesizer,
        limits=_optional(ctx, SpeechLimits) or SpeechLimits(),
    )
