"""Wire models of the reminders API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.reminder_services import Adherence
from domain.reminders import (
    EscalationPolicy,
    EscalationStep,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderStatus,
    StepAction,
)


class ReminderOut(BaseModel):
    id: uuid.UUID
    what: str
    medicine: str | None
    dose: str | None
    first_at: datetime
    recurrence: str | None = Field(description="RRULE in the reminder's local wall-clock time; null: once")
    timezone: str
    status: ReminderStatus
    next_due_at: datetime | None
    escalate: bool = Field(description="Unacknowledged doses run the escalation ladder")
    description: str = Field(examples=["every day at 08:00"])
    created_at: datetime | None

    @classmethod
    def of(cls, reminder: Reminder, now: datetime, language: str | None = None) -> ReminderOut:
        """`description` in the person's language setting (English unless it is Swedish)."""
        described = reminder.schedule.describe(now)
        return cls(
            id=reminder.id,
            what=reminder.what,
            medicine=reminder.medicine,
            dose=reminder.dose,
            first_at=reminder.schedule.first_at,
            recurrence=reminder.schedule.rule,
            timezone=reminder.schedule.timezone,
            status=reminder.status,
            next_due_at=reminder.next_due_at,
            escalate=reminder.escalate,
            description=described.sv if language == "sv" else str(described),
            created_at=reminder.created_at,
        )


class ReminderList(BaseModel):
    items: list[ReminderOut]


class OccurrenceOut(BaseModel):
    id: uuid.UUID
    reminder_id: uuid.UUID
    due_at: datetime
    status: OccurrenceStatus
    reason: str | None = Field(description="For missed doses: no_ack or not_delivered")
    fired_at: datetime | None
    acked_at: datetime | None
    task_id: uuid.UUID | None = Field(description="The delivery task the person's app sees")

    @classmethod
    def of(cls, occurrence: Occurrence) -> OccurrenceOut:
        return cls(
            id=occurrence.id,
            reminder_id=occurrence.reminder_id,
            due_at=occurrence.due_at,
            status=occurrence.status,
            reason=occurrence.reason,
            fired_at=occurrence.fired_at,
            acked_at=occurrence.acked_at,
            task_id=occurrence.task_id,
        )


class OccurrenceList(BaseModel):
    items: list[OccurrenceOut]


class AdherenceOut(BaseModel):
    reminder_id: uuid.UUID
    since: datetime
    until: datetime
    taken: int = Field(description="Acknowledged before the family was told")
    late: int = Field(description="Acknowledged after that")
    missed: int = Field(description="Not acknowledged in time, or never delivered")
    pending: int = Field(description="Fired, still waiting for an acknowledgement")
    not_delivered: int = Field(description="Of the missed: never delivered (the service was down)")
    rate: float | None = Field(description="(taken + late) / (taken + late + missed); null before any")

    @classmethod
    def of(cls, a: Adherence) -> AdherenceOut:
        return cls(
            reminder_id=a.reminder_id,
            since=a.since,
            until=a.until,
            taken=a.taken,
            late=a.late,
            missed=a.missed,
            pending=a.pending,
            not_delivered=a.not_delivered,
            rate=a.rate,
        )


class StepIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_seconds: int = Field(ge=1, le=86_400, description="Seconds after the reminder fired")
    action: Literal["reprompt", "family"]
    contacts: list[str] = Field(
        default_factory=list, max_length=10, description="For family: whom to tell; empty: all family"
    )


class EscalationIO(BaseModel):
    """The caller's escalation ladder: what happens while a dose stays unacknowledged."""

    model_config = ConfigDict(extra="forbid")

    steps: list[StepIO] = Field(max_length=5)
    missed_after_seconds: int = Field(ge=1, le=7 * 86_400, description="Unacknowledged this long: missed")

    def policy(self) -> EscalationPolicy:
        steps = tuple(
            EscalationStep(s.after_seconds, StepAction(s.action), tuple(c[:200] for c in s.contacts))
            for s in self.steps
        )
        return EscalationPolicy(steps, self.missed_after_seconds)

    @classmethod
    def of(cls, policy: EscalationPolicy) -> EscalationIO:
        return cls(
            steps=[
                StepIO(after_seconds=s.after_seconds, action=s.action.value, contacts=list(s.contacts))
                for s in policy.steps
            ],
            missed_after_seconds=policy.missed_after_seconds,
        )
