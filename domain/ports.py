"""Every seam between the core and the world, as Protocols that providers implement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.intents import ParsedIntent
from domain.tasks import Lane, Task, TaskEvent, TaskStatus
from domain.users import User


class Clock(Protocol):
    def now(self) -> datetime: ...


class IntentParser(Protocol):
    name: str

    async def parse(self, text: str, *, now: datetime, timezone: str) -> ParsedIntent: ...


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to insert."""

    id: uuid.UUID
    user_id: uuid.UUID
    conversation_id: uuid.UUID
    kind: str
    lane: Lane
    intent: str
    slots: dict[str, Any]
    input: dict[str, Any]
    parser: str
    max_attempts: int
    idempotency_key: str | None
    request_hash: str | None
    status: TaskStatus = TaskStatus.QUEUED
    """`queued`, or `needs_input` / `awaiting_confirmation` when the person is asked first."""
    reply: str | None = None
    reason: str = "accepted"
    presumed_published: bool = True
    """Insert it as published, because the caller publishes right after commit and reports a
    failure with `mark_unpublished`. This keeps the hot path at one INSERT and one XADD."""


@dataclass(frozen=True, slots=True)
class Doorbell:
    """A stream entry: ids only. The task row is the truth."""

    task_id: uuid.UUID
    lane: Lane
    kind: str


@dataclass(frozen=True, slots=True)
class TaskChange:
    task_id: uuid.UUID
    user_id: uuid.UUID
    from_statuses: tuple[TaskStatus, ...]
    to_status: TaskStatus
    reason: str
    slots: dict[str, Any] | None = None
    reply: str | None = None
    turn: str | None = None
    """The follow-up message's text, appended to the task's input."""


class UserRepository(Protocol):
    async def add(self, user: User, token_hash: bytes) -> None: ...

    async def by_token_hash(self, token_hash: bytes) -> User | None: ...

    async def update(self, user: User) -> None: ...

    async def get(self, user_id: uuid.UUID) -> User | None: ...


class TaskRepository(Protocol):
    async def insert(self, task: NewTask) -> Task | None:
        """Insert the task, its first event and its conversation in one statement.

        Returns None when the conversation belongs to another user. Raises `Conflict` subclasses
        via `IdempotencyReplay` when the idempotency key was used before.
        """
        ...

    async def by_idempotency_key(self, user_id: uuid.UUID, key: str) -> tuple[Task, str | None] | None:
        """The task an earlier message with this key created or advanced, and that message's hash."""
        ...

    async def pending_in(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> Task | None:
        """The conversation's task that waits for the person (a missing slot or a yes/no)."""
        ...

    async def advance(self, change: TaskChange) -> Task | None:
        """Apply the change if the task (the user's own) is still in one of `change.from_statuses`;
        records the event; None when it was not."""
        ...

    async def add_receipt(
        self, user_id: uuid.UUID, key: str, request_hash: str, task_id: uuid.UUID
    ) -> None: ...

    async def get(self, task_id: uuid.UUID, user_id: uuid.UUID | None) -> Task | None: ...

    async def page(
        self, user_id: uuid.UUID, status: TaskStatus | None, limit: int, before: uuid.UUID | None
    ) -> list[Task]: ...

    async def events(self, task_id: uuid.UUID) -> list[TaskEvent]: ...

    async def mark_unpublished(self, task_id: uuid.UUID) -> None:
        """The publish after commit failed: hand the task to the outbox relay now."""
        ...

    async def dead_letters(self, limit: int, before: uuid.UUID | None) -> list[Task]: ...

    async def requeue_dead_letter(self, task_id: uuid.UUID, reason: str) -> Task | None:
        """dead_lettered -> queued with attempts reset, or None if it is not dead-lettered."""
        ...


class UnitOfWork(Protocol):
    """One connection; statements outside `transaction()` each commit on their own (and are atomic)."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


class TaskQueue(Protocol):
    async def publish(self, doorbells: Sequence[Doorbell]) -> bool:
        """Put the doorbells on their lanes' streams. False (never an exception) when the broker is
        unreachable: the outbox relay publishes them later, so the caller goes on."""
        ...


class TaskUpdates(Protocol):
    async def wait(self, task_id: uuid.UUID, timeout: float) -> None:
        """Return when a change to the task is announced or `timeout` seconds pass (no error)."""
        ...
