"""Use cases. Each receives its ports as keyword arguments and does no I/O of its own."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import orjson

from domain.errors import Conflict, InvalidInput, NotFound
from domain.ids import uuid7
from domain.ports import (
    Clock,
    Doorbell,
    IntentParser,
    NewTask,
    TaskQueue,
    TaskUpdates,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.skills import SkillRegistry
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
    """Parse, then commit the task row (the outbox) in one statement, then ring the lane's doorbell.

    If the broker is down the task is still accepted and handed to the outbox relay, which
    publishes it once the broker is back. (Should this process die between commit and publish,
    the relay's stale-entry sweep publishes it later.)
    Raises Conflict when the Idempotency-Key was used with another body, NotFound for a
    conversation of another user, InvalidInput for an unknown time zone.
    """
    timezone = valid_timezone(msg.timezone or msg.user.timezone)
    parsed = await parser.parse(msg.text, now=clock.now(), timezone=timezone)
    skill = registry.for_intent(parsed.intent)
    fingerprint = request_fingerprint(msg) if msg.idempotency_key else None
    new = NewTask(
        id=uuid7(),
        user_id=msg.user.id,
        conversation_id=msg.conversation_id or uuid7(),
        kind=skill.name,
        lane=skill.lane,
        intent=parsed.intent.value,
        slots=parsed.slots,
        input={"text": msg.text, "timezone": timezone, "confidence": parsed.confidence},
        parser=parsed.parser,
        max_attempts=skill.retry.max_attempts,
        idempotency_key=msg.idempotency_key,
        request_hash=fingerprint,
    )
    task = await uow.tasks.insert(new)
    if task is None:
        return await _earlier_or_conflict(msg, fingerprint, uow)
    if not await queue.publish([Doorbell(task.id, task.lane, task.kind)]):
        await uow.tasks.mark_unpublished(task.id)
    return Accepted(task=task, replayed=False)


async def _earlier_or_conflict(msg: IncomingMessage, fingerprint: str | None, uow: UnitOfWork) -> Accepted:
    """The insert found an earlier task with this key, or a conversation that is not the user's."""
    if msg.idempotency_key is not None:
        earlier = await uow.tasks.by_idempotency_key(msg.user.id, msg.idempotency_key)
        if earlier is not None:
            task, earlier_hash = earlier
            if earlier_hash != fingerprint:
                raise Conflict("this Idempotency-Key was already used with a different request body")
            return Accepted(task=task, replayed=True)
    raise NotFound("conversation not found")


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
