"""Wire models of the API. Domain models never go on the wire directly."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.intents import Intent, ParsedIntent
from domain.tasks import Task, TaskEvent, TaskStatus
from domain.users import User


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateUserIn(Strict):
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone, e.g. Europe/Stockholm")
    name: str | None = Field(default=None, max_length=200)


class UserCreated(BaseModel):
    id: uuid.UUID
    token: str = Field(description="Bearer token for this user. Shown once; only its hash is stored.")


class MessageIn(Strict):
    text: str = Field(min_length=1, max_length=4000)
    conversation_id: uuid.UUID | None = None
    timezone: str | None = Field(default=None, max_length=64)
    speak: bool | None = Field(
        default=None,
        description="Synthesize the replies (`audio_url` in the task result); default: your setting",
    )


class MessageAccepted(BaseModel):
    task_id: uuid.UUID
    conversation_id: uuid.UUID
    status: TaskStatus
    intent: str
    status_url: str


class TaskOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    intent: str
    slots: dict[str, Any]
    status: TaskStatus
    reply: str | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(
            id=task.id,
            conversation_id=task.conversation_id,
            intent=task.intent,
            slots=task.slots,
            status=task.status,
            reply=task.reply,
            result=task.result,
            error=task.error,
            attempts=task.attempts,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class EventOut(BaseModel):
    at: datetime
    from_status: TaskStatus | None
    to_status: TaskStatus
    reason: str
    attempt: int

    @classmethod
    def of(cls, event: TaskEvent) -> EventOut:
        return cls(
            at=event.at,
            from_status=event.from_status,
            to_status=event.to_status,
            reason=event.reason,
            attempt=event.attempt,
        )


class DeadLetterOut(TaskOut):
    user_id: uuid.UUID
    kind: str
    lane: str

    @classmethod
    def of(cls, task: Task) -> DeadLetterOut:
        base = TaskOut.of(task).model_dump()
        return cls(**base, user_id=task.user_id, kind=task.kind, lane=task.lane.value)


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None


class ParseIn(Strict):
    text: str = Field(min_length=1, max_length=4000)
    now: AwareDatetime | None = Field(None, description="Reference time (ISO 8601 with offset); default: now")
    timezone: str | None = Field(None, max_length=64)


class ParseOut(BaseModel):
    intent: Intent
    slots: dict[str, Any]
    confidence: float
    missing: list[str]
    parser: str

    @classmethod
    def of(cls, parsed: ParsedIntent) -> ParseOut:
        return cls(
            intent=parsed.intent,
            slots=parsed.slots,
            confidence=parsed.confidence,
            missing=list(parsed.missing),
            parser=parsed.parser,
        )


class MeIn(Strict):
    timezone: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    confirm_reminders: bool | None = Field(None, description="Read reminders back before setting them")
    language: Literal["en", "sv", "auto"] | None = Field(
        None, description="Language of replies and voices; `auto` detects it from each message"
    )
    speak: bool | None = Field(None, description="Synthesize every reply (an `audio_url` in the task result)")


class MeOut(BaseModel):
    id: uuid.UUID
    timezone: str
    name: str | None
    confirm_reminders: bool
    language: str | None = Field(description="null: detected from each message")
    speak: bool

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(
            id=user.id,
            timezone=user.timezone,
            name=user.name,
            confirm_reminders=user.confirm_reminders,
            language=user.language,
            speak=user.speak,
        )


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None
