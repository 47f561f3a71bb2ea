"""Use cases. Each receives its ports as keyword arguments and does no I/O of its own."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import orjson

from domain.conversation import (
    CLARIFY_NO_REPLY,
    CLARIFY_QUESTIONS,
    Answer,
    fill,
    first_step,
    is_undo,
    next_step,
    yes_or_no,
)
from domain.errors import Conflict, InvalidInput, NotFound
from domain.ids import uuid7
from domain.intents import Intent, ParsedIntent
from domain.ports import (
    Clock,
    Doorbell,
    IntentParser,
    NewTask,
    TaskChange,
    TaskQueue,
    TaskUpdates,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.skills import SkillRegistry
from domain.skills.reminders import followup_skill
from domain.slot_extraction import extract_slots
from domain.slots import Slots, missing_slots
from domain.speech import SPEAK_REPLY_SKILL, localize, reply_language
from domain.tasks import TERMINAL, Task, TaskStatus
from domain.users import User, hash_token, new_token, valid_timezone

MAX_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    user: User
    text: str
    conversation_id: uuid.UUID | None = None
    timezone: str | None = None
    idempotency_key: str | None = None
    speak: bool | None = None
    """Synthesize the replies (an `audio_url` in the result); None: as the user's setting says."""
    language: str | None = None
    """The language the speech recogniser heard, for a transcribed voice message."""


@dataclass(frozen=True, slots=True)
class Accepted:
    task: Task
    replayed: bool
    """True when an earlier request with the same Idempotency-Key created the task."""


async def create_user(*, timezone: str, name: str | None, uow: UnitOfWork) -> tuple[User, str]:
    """Returns the user and its bearer token; the token is shown once and stored only as a hash."""
    user = User(id=uuid7(), timezone=valid_timezone(timezone), name=name)
    token = new_token()
    await uow.users.add(user, hash_token(token))
    return user, token


def request_fingerprint(msg: IncomingMessage) -> str:
    """What makes two requests with one Idempotency-Key 'the same': the body's fields."""
    body = [msg.text, str(msg.conversation_id or ""), msg.timezone or ""]
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


async def accept_message(
    msg: IncomingMessage,
    *,
    uow: UnitOfWork,
    parser: IntentParser,
    registry: SkillRegistry,
    queue: TaskQueue,
    clock: Clock,
) -> Accepted:
    """Turn a message into a task, or move the conversation's waiting task on with it.

    A new task is committed (the outbox) in one statement, then its lane's doorbell is rung; if
    the broker is down the task is still accepted and handed to the outbox relay. Tasks that need
    the person first (a missing slot, a confirmation) wait in PostgreSQL and reach no worker yet.
    Raises Conflict when the Idempotency-Key was used with another body, NotFound for a
    conversation of another user, InvalidInput for an unknown time zone.
    """
    timezone = valid_timezone(msg.timezone or msg.user.timezone)
    now = clock.now()
    fingerprint = request_fingerprint(msg) if msg.idempotency_key else None
    if msg.conversation_id is not None:
        if msg.idempotency_key is not None:
            earlier = await _earlier(msg, fingerprint, uow)
            if earlier is not None:
                return earlier
        advanced = await _follow_up(msg, fingerprint, timezone, now, uow=uow, queue=queue, registry=registry)
        if advanced is not None:
            await _speak_here_made_reply(advanced.task, registry, uow, queue)
            return advanced
    if is_undo(msg.text):
        parsed = ParsedIntent(Intent.CANCEL_BOOKING, 1.0, "rule:undo", confirmed=True)
    else:
        parsed = await parser.parse(msg.text, now=now, timezone=timezone)
    task = await uow.tasks.insert(_new_task(msg, parsed, registry, fingerprint, timezone, now))
    if task is None:
        return await _earlier_or_conflict(msg, fingerprint, uow)
    if task.status is TaskStatus.QUEUED:
        await _publish(task, uow, queue)
    else:
        await _speak_here_made_reply(task, registry, uow, queue)
    return Accepted(task=task, replayed=False)


async def _speak_here_made_reply(
    task: Task, registry: SkillRegistry, uow: UnitOfWork, queue: TaskQueue
) -> None:
    """A reply made here rather than by a worker (a question, a read-back, "All right, I won't")
    is spoken on the speech lane when the person asked for speech; that task then adds the
    `audio_url` to this one. Workers speak the replies they make themselves."""
    skill = registry.get(SPEAK_REPLY_SKILL)
    if skill is None or not task.reply or not task.input.get("speak") or task.status is TaskStatus.QUEUED:
        return
    companion = await uow.tasks.insert(
        NewTask(
            id=uuid7(),
            user_id=task.user_id,
            conversation_id=task.conversation_id,
            kind=skill.name,
            lane=skill.lane,
            intent=Intent.NONE.value,
            slots={},
            input={"text": task.reply, "for_task": str(task.id), "language": task.input.get("language")},
            parser="none",
            max_attempts=skill.retry.max_attempts,
            idempotency_key=None,
            request_hash=None,
        )
    )
    if companion is not None:
        await _publish(companion, uow, queue)


def _new_task(
    msg: IncomingMessage,
    parsed: ParsedIntent,
    registry: SkillRegistry,
    fingerprint: str | None,
    timezone: str,
    now: datetime,
) -> NewTask:
    step = first_step(parsed, now, timezone, confirm_reminders=msg.user.confirm_reminders)
    # "I took it" / "did I take my pill today?" carry no action of the taxonomy: the dose ledger answers.
    skill = registry.get(followup_skill(msg.text, parsed.intent) or "") or registry.for_intent(parsed.intent)
    facts: dict[str, Any] = {"text": msg.text, "timezone": timezone, "confidence": parsed.confidence}
    if parsed.unsupported or parsed.unsure:
        facts.update(unsupported=parsed.unsupported, unsure=parsed.unsure, candidate=parsed.candidate)
    if msg.speak or (msg.speak is None and msg.user.speak):
        facts["speak"] = True
    if msg.user.language or msg.language:
        facts["language"] = msg.user.language or msg.language
    return NewTask(
        id=uuid7(),
        user_id=msg.user.id,
        conversation_id=msg.conversation_id or uuid7(),
        kind=skill.name,
        lane=skill.lane,
        intent=parsed.intent.value,
        slots=parsed.slots,
        input=facts,
        parser=parsed.parser,
        max_attempts=skill.retry.max_attempts,
        idempotency_key=msg.idempotency_key,
        request_hash=fingerprint,
        status=step.status,
        reply=_in_language(step.reply, msg),
        reason=step.reason,
    )


async def _publish(task: Task, uow: UnitOfWork, queue: TaskQueue) -> None:
    if not await queue.publish([Doorbell(task.id, task.lane, task.kind)]):
        await uow.tasks.mark_unpublished(task.id)


async def _follow_up(
    msg: IncomingMessage,
    fingerprint: str | None,
    timezone: str,
    now: datetime,
    *,
    uow: UnitOfWork,
    queue: TaskQueue,
    registry: SkillRegistry,
) -> Accepted | None:
    """A yes/no to a read-back, or the answer to a question, moves the waiting task on. Anything
    else is a new request: the waiting task is cancelled as superseded, and None is returned."""
    assert msg.conversation_id is not None
    pending = await uow.tasks.pending_in(msg.conversation_id, msg.user.id)
    if pending is None:
        return None
    meant = _clarifying(pending)
    if meant is not None and yes_or_no(msg.text) == Answer.YES:
        closed, request = _clarified(pending, meant, msg, fingerprint, timezone, now, registry)
        async with uow.transaction():
            if await uow.tasks.advance(closed) is None:
                return None  # closed meanwhile: the "yes" is a new request of its own
            task = await uow.tasks.insert(request)
        if task is None:
            return await _earlier_or_conflict(msg, fingerprint, uow)
    else:
        change = _change_for(pending, msg, timezone, now)
        if change.reason == SUPERSEDED:
            await uow.tasks.advance(change)
            return None
        async with uow.transaction():
            task = await uow.tasks.advance(change)
            if task is not None and msg.idempotency_key and fingerprint:
                await uow.tasks.add_receipt(msg.user.id, msg.idempotency_key, fingerprint, task.id)
        if task is None:  # moved on meanwhile (the confirm endpoint, another device): a new request
            return None
    if task.status is TaskStatus.QUEUED:
        await _publish(task, uow, queue)
    return Accepted(task=task, replayed=False)


SUPERSEDED = "superseded by a new request"
ON_IT = "Okay, I'm on it."


def _asked_again(pending: Task) -> Slots:
    """The slots, without the one a skill asked about again (a full slot, an unknown venue)."""
    slots = Slots.model_validate(pending.slots)
    asked = (pending.result or {}).get("ask")
    if isinstance(asked, str) and asked in Slots.model_fields:
        slots = slots.model_copy(update={asked: None})
    return slots


def _offered(pending: Task) -> list[datetime]:
    """Times a skill offered instead of a taken one ("18:30 or 20:00?")."""
    raw = (pending.result or {}).get("alternatives") or []
    return [datetime.fromisoformat(a) for a in raw if isinstance(a, str)]


def _clarifying(pending: Task) -> Intent | None:
    """The action a waiting task asks the person about ("Did you want me to cancel a booking?")."""
    if pending.status is not TaskStatus.NEEDS_INPUT or not pending.input.get("unsure"):
        return None
    candidate = pending.input.get("candidate")
    return next((intent for intent in CLARIFY_QUESTIONS if intent.value == candidate), None)


def _clarified(
    pending: Task,
    meant: Intent,
    msg: IncomingMessage,
    fingerprint: str | None,
    timezone: str,
    now: datetime,
    registry: SkillRegistry,
) -> tuple[TaskChange, NewTask]:
    """A yes to "Did you want me to ...?": the question closed, and the first message as a new
    request for that action in the same conversation. It then goes the usual way: asked for what
    is missing, read back before anything irreversible."""
    original = str(pending.input.get("text", ""))
    slots = extract_slots(meant, original, now, timezone)
    parsed = ParsedIntent(
        intent=meant,
        confidence=float(pending.input.get("confidence", 0.0)),
        parser=pending.parser or "local",
        slots=slots.present(),
        missing=missing_slots(meant, slots),
    )
    closed = TaskChange(
        pending.id,
        msg.user.id,
        (TaskStatus.NEEDS_INPUT,),
        TaskStatus.CANCELLED,
        f"clarified: the person meant {meant.value}",
        turn=msg.text,
    )
    return closed, _new_task(replace(msg, text=original), parsed, registry, fingerprint, timezone, now)


def _in_language(reply: str | None, msg: IncomingMessage) -> str | None:
    """A reply made here, in the person's language where we have it (as workers do with theirs)."""
    if not reply:
        return reply
    return localize(reply, reply_language(msg.user.language, msg.language, msg.text))[0]


def _change_for(pending: Task, msg: IncomingMessage, timezone: str, now: datetime) -> TaskChange:
    """How the person's follow-up moves the waiting task: confirmed, cancelled, filled or superseded."""
    change = _change_in_english(pending, msg, timezone, now)
    return replace(change, reply=_in_language(change.reply, msg))


def _change_in_english(pending: Task, msg: IncomingMessage, timezone: str, now: datetime) -> TaskChange:
    answer = yes_or_no(msg.text)
    base = TaskChange(
        pending.id, msg.user.id, (pending.status,), TaskStatus.CANCELLED, SUPERSEDED, turn=msg.text
    )
    asking = _clarifying(pending) is not None
    if answer == Answer.NO:
        no_reply = CLARIFY_NO_REPLY if asking else "All right, I won't do that."
        return replace(base, reason="cancelled by the person", reply=no_reply)
    if asking:  # anything but yes or no to "Did you want me to ...?" is a new request
        return base
    if pending.status is TaskStatus.AWAITING_CONFIRMATION:
        if answer == Answer.YES:
            return replace(base, to_status=TaskStatus.QUEUED, reason="confirmed by the person", reply=ON_IT)
        return base
    intent = Intent(pending.intent)
    filled = fill(intent, _asked_again(pending), msg.text, now, timezone, offered=_offered(pending))
    if filled is None:
        return base
    step = next_step(intent, filled, now, timezone, confirm_reminders=msg.user.confirm_reminders)
    return replace(
        base, to_status=step.status, reason=step.reason, slots=filled.present(), reply=step.reply or ON_IT
    )


async def _earlier(msg: IncomingMessage, fingerprint: str | None, uow: UnitOfWork) -> Accepted | None:
    assert msg.idempotency_key is not None
    earlier = await uow.tasks.by_idempotency_key(msg.user.id, msg.idempotency_key)
    if earlier is None:
        return None
    task, earlier_hash = earlier
    if earlier_hash != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request body")
    return Accepted(task=task, replayed=True)


async def _earlier_or_conflict(msg: IncomingMessage, fingerprint: str | None, uow: UnitOfWork) -> Accepted:
    """The insert found an earlier task with this key, or a conversation that is not the user's."""
    if msg.idempotency_key is not None:
        earlier = await _earlier(msg, fingerprint, uow)
        if earlier is not None:
            return earlier
    raise NotFound("conversation not found")


async def confirm_task(user: User, task_id: uuid.UUID, *, uow: UnitOfWork, queue: TaskQueue) -> Task:
    """The person said yes to the read-back: the action is queued. Conflict if nothing awaits a yes."""
    change = TaskChange(
        task_id,
        user.id,
        (TaskStatus.AWAITING_CONFIRMATION,),
        TaskStatus.QUEUED,
        "confirmed by the person",
        reply=localize(ON_IT, user.language or "en")[0],
    )
    task = await uow.tasks.advance(change)
    if task is None:
        await get_task(user, task_id, uow=uow)  # NotFound for others' tasks
        raise Conflict("this task is not waiting for a confirmation")
    await _publish(task, uow, queue)
    return task


CANCELLABLE = (
    TaskStatus.QUEUED,
    TaskStatus.RETRYING,
    TaskStatus.NEEDS_INPUT,
    TaskStatus.AWAITING_CONFIRMATION,
)


async def cancel_task(user: User, task_id: uuid.UUID, *, uow: UnitOfWork) -> Task:
    """Cancel what has not started. Conflict once it runs or has finished."""
    change = TaskChange(
        task_id,
        user.id,
        CANCELLABLE,
        TaskStatus.CANCELLED,
        "cancelled by the person",
        reply=localize("All right, I won't do that.", user.language or "en")[0],
    )
    task = await uow.tasks.advance(change)
    if task is None:
        current = await get_task(user, task_id, uow=uow)
        raise Conflict(f"a {current.status.value} task cannot be cancelled")
    return task


async def parse_message(
    user: User, text: str, *, now: datetime | None, timezone: str | None, parser: IntentParser, clock: Clock
) -> ParsedIntent:
    """What the message would become, with no side effect; `now` makes the answer reproducible."""
    zone = valid_timezone(timezone or user.timezone)
    return await parser.parse(text, now=now or clock.now(), timezone=zone)


async def update_settings(
    user: User,
    *,
    timezone: str | None,
    name: str | None,
    confirm_reminders: bool | None,
    uow: UnitOfWork,
    language: str | None = None,
    speak: bool | None = None,
) -> User:
    """Change what is given; `language` "auto" goes back to detecting it from each message."""
    updated = User(
        id=user.id,
        timezone=valid_timezone(timezone) if timezone is not None else user.timezone,
        name=name if name is not None else user.name,
        confirm_reminders=user.confirm_reminders if confirm_reminders is None else confirm_reminders,
        language=user.language if language is None else (None if language == "auto" else language),
        speak=user.speak if speak is None else speak,
    )
    await uow.users.update(updated)
    return updated


async def get_task(user: User, task_id: uuid.UUID, *, uow: UnitOfWork) -> Task:
    task = await uow.tasks.get(task_id, user.id)
    if task is None:
        raise NotFound("task not found")
    return task


async def wait_for_task(
    user: User, task_id: uuid.UUID, wait: float, *, uow_factory: UnitOfWorkFactory, updates: TaskUpdates
) -> Task:
    """The task, once its status differs from what it was on arrival or `wait` seconds have passed.

    Holds no database connection while waiting; re-reads the row on every announcement and at
    least once a second, so a lost announcement only costs latency.
    """
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise InvalidInput(f"wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds")
    async with uow_factory() as uow:
        task = await get_task(user, task_id, uow=uow)
    first = task.status
    deadline = time.monotonic() + wait
    while task.status == first and first not in TERMINAL:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await updates.wait(task_id, min(remaining, 1.0))
        async with uow_factory() as uow:
            task = await get_task(user, task_id, uow=uow)
    return task


async def list_tasks(
    user: User, *, status: TaskStatus | None, limit: int, cursor: uuid.UUID | None, uow: UnitOfWork
) -> tuple[list[Task], uuid.UUID | None]:
    """A page of the user's tasks, newest first, and the cursor of the next page (None at the end)."""
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200")
    tasks = await uow.tasks.page(user.id, status, limit + 1, cursor)
    next_cursor = tasks[limit - 1].id if len(tasks) > limit else None
    return tasks[:limit], next_cursor


async def list_dead_letters(
    *, limit: int, cursor: uuid.UUID | None, uow: UnitOfWork
) -> tuple[list[Task], uuid.UUID | None]:
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    tasks = await uow.tasks.dead_letters(limit + 1, cursor)
    next_cursor = tasks[limit - 1].id if len(tasks) > limit else None
    return tasks[:limit], next_cursor


class DeadLetterQueue(Protocol):
    async def discard(self, task_id: uuid.UUID) -> None:
        """Remove the task's DLQ stream entry, if there is one."""
        ...


async def replay_dead_letter(
    task_id: uuid.UUID, *, uow: UnitOfWork, queue: TaskQueue, dlq: DeadLetterQueue
) -> Task:
    """Queue a dead-lettered task again with fresh attempts. NotFound if it is not dead-lettered."""
    task = await uow.tasks.requeue_dead_letter(task_id, reason="replayed by an operator")
    if task is None:
        raise NotFound("no dead-lettered task with this id")
    await dlq.discard(task_id)
    if not await queue.publish([Doorbell(task.id, task.lane, task.kind)]):
        await uow.tasks.mark_unpublished(task.id)
    return task
