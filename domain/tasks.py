"""The task: its statuses, the transitions between them, and how a skill's outcome moves it."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    DEAD_LETTERED = "dead_lettered"
    NEEDS_INPUT = "needs_input"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CANCELLED = "cancelled"


class Lane(StrEnum):
    """One Redis stream and consumer group per lane, so each kind of work scales on its own."""

    BOOKING = "booking"
    REMINDER = "reminder"
    NOTIFY = "notify"
    ANSWER = "answer"
    SPEECH = "speech"


TERMINAL = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.DEAD_LETTERED, TaskStatus.CANCELLED, TaskStatus.NEEDS_INPUT}
)
"""Statuses a worker never leaves on its own (needs_input waits for the person's next message)."""

CLAIMABLE = frozenset({TaskStatus.QUEUED, TaskStatus.RETRYING})
"""Statuses from which a worker may start a task (plus running with an expired lease)."""

TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.QUEUED: frozenset({TaskStatus.RUNNING, TaskStatus.CANCELLED}),
    TaskStatus.RUNNING: frozenset(
        {
            TaskStatus.RUNNING,  # lease expired, another worker takes over
            TaskStatus.SUCCEEDED,
            TaskStatus.RETRYING,
            TaskStatus.DEAD_LETTERED,
            TaskStatus.NEEDS_INPUT,
            TaskStatus.AWAITING_CONFIRMATION,
        }
    ),
    TaskStatus.RETRYING: frozenset({TaskStatus.RUNNING, TaskStatus.CANCELLED}),
    TaskStatus.DEAD_LETTERED: frozenset({TaskStatus.QUEUED}),  # replay
    TaskStatus.AWAITING_CONFIRMATION: frozenset({TaskStatus.QUEUED, TaskStatus.CANCELLED}),
    TaskStatus.NEEDS_INPUT: frozenset(
        {TaskStatus.NEEDS_INPUT, TaskStatus.AWAITING_CONFIRMATION, TaskStatus.QUEUED, TaskStatus.CANCELLED}
    ),
    TaskStatus.SUCCEEDED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def can_transition(src: TaskStatus, dst: TaskStatus) -> bool:
    return dst in TRANSITIONS[src]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; the delay is kept in PostgreSQL, so no worker sleeps on it."""

    max_attempts: int = 5
    """Attempts in all, the first one included; after the last the task is dead-lettered."""
    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    jitter: float = 0.5
    """Share of the delay drawn at random, so that retries of a burst spread out."""

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        raw = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        draw = float((rng or random).random())
        return raw * (1 - self.jitter) + raw * self.jitter * draw

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of work as the worker and the API see it. The row in PostgreSQL is the truth."""

    id: uuid.UUID
    user_id: uuid.UUID
    conversation_id: uuid.UUID
    kind: str
    """The skill that runs it."""
    lane: Lane
    intent: str
    status: TaskStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    slots: dict[str, Any] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    """What the person sent (text, language, time zone): read by skills, never logged."""
    reply: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    parser: str | None = None


@dataclass(frozen=True, slots=True)
class TaskEvent:
    task_id: uuid.UUID
    at: datetime
    from_status: TaskStatus | None
    to_status: TaskStatus
    reason: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a skill reports; `decide` turns it, with the retry policy, into the next status."""

    status: TaskStatus
    reply: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    retry_in: float = 0.0
    reason: str = ""

    @staticmethod
    def succeeded(reply: str | None = None, result: dict[str, Any] | None = None) -> Outcome:
        return Outcome(TaskStatus.SUCCEEDED, reply=reply, result=result, reason="succeeded")

    @staticmethod
    def needs_input(question: str, result: dict[str, Any] | None = None) -> Outcome:
        return Outcome(TaskStatus.NEEDS_INPUT, reply=question, result=result, reason="needs input")


def decide_failure(
    error: BaseException,
    *,
    transient: bool,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> Outcome:
    """Retry a transient failure while attempts remain; dead-letter the rest with the error kept."""
    detail = {"type": type(error).__name__, "message": str(error)[:500], "attempt": attempt}
    if transient and not policy.exhausted(attempt):
        delay = policy.delay(attempt, rng)
        return Outcome(
            TaskStatus.RETRYING,
            error=detail,
            retry_in=delay,
            reason=f"retry in {delay:.2f}s: {detail['type']}",
        )
    why = "attempts exhausted" if transient else "permanent failure"
    return Outcome(TaskStatus.DEAD_LETTERED, error=detail, reason=f"{why}: {detail['type']}")
