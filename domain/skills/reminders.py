"""Reminder skills (lane `reminder`): set and list reminders, deliver occurrences and re-prompts, alert
the family, and answer "I took it" and "did I take my heart pill today?".

Every effect is keyed by the task id (the reminder's id derives from it; deliveries and alerts carry
it as their idempotency key), so a re-run after a crash repeats nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.intents import Intent
from domain.ports import UnitOfWork
from domain.reminder_services import ack_latest_due, create_reminder, reminders_reply, took_today
from domain.reminders import (
    DELIVERY_KIND,
    FAMILY_KIND,
    Delivery,
    FamilyAlert,
    FamilyAlerts,
    OccurrenceStatus,
    ReminderLimits,
    ReminderPush,
    ReminderRepositories,
    ReminderRepository,
    ack_path,
    dose_followup,
    took_today_subject,
)
from domain.skills import Skill, SkillContext
from domain.tasks import Lane, Outcome, RetryPolicy, Task

ACK_SKILL = "reminder_ack"
"""Answers "I took it" (see domain.reminders.dose_followup)."""
TOOK_TODAY_SKILL = "reminder_took_today"
"""Answers "did I take my heart pill today?"."""


def followup_skill(text: str, intent: Intent) -> str | None:
    """The skill for "I took it" and "did I take my heart pill today?" when the parser saw no action
    in them: the conversation's hook (domain.services._new_task) routes such messages here."""
    if intent not in (Intent.NONE, Intent.ASK_QUESTION, Intent.LIST_REMINDERS):
        return None
    return {"ack": ACK_SKILL, "took_today": TOOK_TODAY_SKILL}.get(dose_followup(text) or "")


def _now(ctx: SkillContext) -> datetime:
    return ctx.clock.now() if ctx.clock is not None else datetime.now(UTC)


def _repository(ctx: SkillContext, uow: UnitOfWork) -> ReminderRepository:
    repositories = ctx.port(ReminderRepositories)  # mypy#4717: a Protocol as key
    return repositories(uow)


def _optional(ctx: SkillContext, kind: type[Any]) -> Any:
    try:
        return ctx.port(kind)
    except LookupError:
        return None


async def set_reminder(task: Task, ctx: SkillContext) -> Outcome:
    limits = _optional(ctx, ReminderLimits) or ReminderLimits()
    async with ctx.uow() as uow:
        repo = _repository(ctx, uow)
        created = await create_reminder(task, _now(ctx), reminders=repo, limits=limits)
    if created.reminder is None:
        return Outcome.succeeded(reply=created.reply, result={"kind": "reminder_not_set"})
    return Outcome.succeeded(
        reply=created.reply, result={"kind": "reminder_set", "reminder_id": str(created.reminder.id)}
    )


async def list_reminders(task: Task, ctx: SkillContext) -> Outcome:
    async with ctx.uow() as uow:
        reply = await reminders_reply(task.user_id, _now(ctx), reminders=_repository(ctx, uow))
    return Outcome.succeeded(reply=reply, result={"kind": "reminders"})


def _ids(task: Task) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(task.input["reminder_id"]), uuid.UUID(task.input["occurrence_id"])


async def deliver(task: Task, ctx: SkillContext) -> Outcome:
    """The words are on the task already (the app sees them by polling); push them if a push is wired.
    A re-prompt for a dose acknowledged meanwhile is not pushed."""
    reminder_id, occurrence_id = _ids(task)
    step = str(task.input.get("step", "due"))
    async with ctx.uow() as uow:
        occurrence = await _repository(ctx, uow).occurrence(task.user_id, occurrence_id)
    still_open = occurrence is not None and occurrence.status is OccurrenceStatus.PENDING
    push: ReminderPush | None = _optional(ctx, ReminderPush)
    if push is not None and (step == "due" or still_open):
        due_at = datetime.fromisoformat(str(task.input["due_at"]))
        text = task.reply or ""
        await push.push(Delivery(task.id, task.user_id, reminder_id, occurrence_id, step, text, due_at))
    return Outcome.succeeded(
        reply=task.reply,
        result={
            "kind": "reminder",
            "step": step,
            "reminder_id": str(reminder_id),
            "occurrence_id": str(occurrence_id),
            "due_at": task.input.get("due_at"),
            "ack_path": ack_path(reminder_id, occurrence_id),
        },
    )


async def alert_family(task: Task, ctx: SkillContext) -> Outcome:
    reminder_id, occurrence_id = _ids(task)
    alert = FamilyAlert(
        id=task.id,
        user_id=task.user_id,
        reminder_id=reminder_id,
        occurrence_id=occurrence_id,
        step=int(task.input["step_number"]),
        text=str(task.input["family_text"]),
        contacts=tuple(task.input.get("contacts", ())),
    )
    alerts: FamilyAlerts = ctx.port(FamilyAlerts)
    await alerts.escalate(alert)
    push: ReminderPush | None = _optional(ctx, ReminderPush)
    if push is not None and task.reply:  # the person hears that their family was told, too
        due_at = datetime.fromisoformat(str(task.input["due_at"]))
        telling = Delivery(task.id, task.user_id, reminder_id, occurrence_id, "escalated", task.reply, due_at)
        await push.push(telling)
    return Outcome.succeeded(
        reply=task.reply,
        result={
            "kind": "family_alerted",
            "reminder_id": str(reminder_id),
            "occurrence_id": str(occurrence_id),
            "ack_path": ack_path(reminder_id, occurrence_id),
        },
    )


async def ack_dose(task: Task, ctx: SkillContext) -> Outcome:
    async with ctx.uow() as uow:
        acked = await ack_latest_due(task.user_id, _now(ctx), reminders=_repository(ctx, uow))
    result: dict[str, Any] = {"kind": "dose_ack"}
    if acked.occurrence is not None:
        result |= {"occurrence_id": str(acked.occurrence.id), "status": acked.occurrence.status.value}
    return Outcome.succeeded(reply=acked.reply, result=result)


async def answer_took_today(task: Task, ctx: SkillContext) -> Outcome:
    subject = took_today_subject(str(task.input.get("text", ""))) or "medicine"
    async with ctx.uow() as uow:
        reply = await took_today(task.user_id, subject, _now(ctx), reminders=_repository(ctx, uow))
    return Outcome.succeeded(reply=reply, result={"kind": "took_today"})


_RETRY = RetryPolicy(max_attempts=5, base_seconds=0.5, cap_seconds=30.0)

SKILLS = [
    Skill("set_reminder", Lane.REMINDER, set_reminder, _RETRY, timeout_seconds=10.0),
    Skill("list_reminders", Lane.REMINDER, list_reminders, _RETRY, timeout_seconds=10.0),
    Skill(DELIVERY_KIND, Lane.REMINDER, deliver, _RETRY, timeout_seconds=10.0),
    Skill(FAMILY_KIND, Lane.REMINDER, alert_family, _RETRY, timeout_seconds=15.0),
    Skill(ACK_SKILL, Lane.REMINDER, ack_dose, _RETRY, timeout_seconds=10.0),
    Skill(TOOK_TODAY_SKILL, Lane.REMINDER, answer_took_today, _RETRY, timeout_seconds=10.0),
]
ROUTES: dict[str, str] = {Intent.SET_REMINDER: "set_reminder", Intent.LIST_REMINDERS: "list_reminders"}
