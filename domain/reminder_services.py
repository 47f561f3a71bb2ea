"""Reminder use cases for the skills, the API and the conversation. Each receives its ports as keyword
arguments and does no I/O of its own; times come from the caller's clock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from domain.errors import Conflict, InvalidInput, NotFound
from domain.recurrence import check_schedule
from domain.reminders import (
    DayRecord,
    EscalationPolicy,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderLimits,
    ReminderRepository,
    ReminderStatus,
    list_reply,
    matching,
    set_reply,
    stable_id,
    took_today_sentence,
    you_form,
)
from domain.slots import Slots
from domain.tasks import Task
from domain.users import valid_timezone
from domain.wording import Said, said, you_form_sv

VISIBLE = (ReminderStatus.ACTIVE, ReminderStatus.PAUSED, ReminderStatus.FINISHED)
"""Statuses the person sees; deleted reminders are gone for them."""
ACK_WINDOW = timedelta(hours=24)
""""I took it" acknowledges a dose fired at most this long ago."""


@dataclass(frozen=True, slots=True)
class Created:
    reminder: Reminder | None
    """None when nothing was set (the reply says why)."""
    reply: str


async def create_reminder(
    task: Task, now: datetime, *, reminders: ReminderRepository, limits: ReminderLimits
) -> Created:
    """The reminder a set_reminder task asks for. Idempotent per task: its id is derived from the
    task's, so a re-run finds the reminder the first run stored and says the same thing."""
    try:
        slots = Slots.model_validate(task.slots)
        timezone = valid_timezone(str(task.input.get("timezone") or "UTC"))
        if slots.start is None or not (slots.what or slots.medicine):
            raise InvalidInput("a reminder needs what and when")
        schedule = check_schedule(slots.start, slots.recurrence, timezone, limits.min_interval_seconds)
    except (InvalidInput, ValidationError):
        return Created(None, "Sorry, I couldn't understand when to remind you. Could you say it another way?")
    next_due = schedule.first_due(now, timedelta(seconds=limits.past_grace_seconds))
    if next_due is None:
        return Created(None, "That time has already passed, so I haven't set a reminder.")
    reminder = Reminder(
        id=stable_id(task.created_at, "reminder", task.id),
        user_id=task.user_id,
        conversation_id=task.conversation_id,
        what=slots.what or f"take {slots.medicine}",
        medicine=slots.medicine,
        dose=slots.dose,
        schedule=schedule,
        status=ReminderStatus.ACTIVE,
        next_due_at=next_due,
        escalate=bool(slots.medicine or slots.dose),
        source_task_id=task.id,
    )
    stored = await reminders.add(reminder)
    return Created(stored, set_reply(stored, now))


async def list_reminders(
    user_id: uuid.UUID, *, reminders: ReminderRepository, statuses: Sequence[ReminderStatus] = VISIBLE
) -> list[Reminder]:
    return await reminders.of_user(user_id, statuses)


async def reminders_reply(user_id: uuid.UUID, now: datetime, *, reminders: ReminderRepository) -> str:
    """The person's active and paused reminders in plain words."""
    mine = await reminders.of_user(user_id, (ReminderStatus.ACTIVE, ReminderStatus.PAUSED))
    return list_reply(mine, now)


async def get_reminder(
    user_id: uuid.UUID, reminder_id: uuid.UUID, *, reminders: ReminderRepository
) -> Reminder:
    """NotFound for others' and deleted reminders."""
    reminder = await reminders.get(user_id, reminder_id)
    if reminder is None:
        raise NotFound("reminder not found")
    return reminder


async def pause_reminder(
    user_id: uuid.UUID, reminder_id: uuid.UUID, *, reminders: ReminderRepository
) -> Reminder:
    """Stop firing until resumed; pending escalations stop too. Pausing a paused one changes nothing;
    a finished one is a Conflict."""
    paused = await reminders.change_status(
        user_id, reminder_id, (ReminderStatus.ACTIVE,), ReminderStatus.PAUSED, None
    )
    if paused is not None:
        return paused
    current = await get_reminder(user_id, reminder_id, reminders=reminders)
    if current.status is ReminderStatus.PAUSED:
        return current
    raise Conflict(f"a {current.status.value} reminder cannot be paused")


async def resume_reminder(
    user_id: uuid.UUID, reminder_id: uuid.UUID, now: datetime, *, reminders: ReminderRepository
) -> Reminder:
    """Fire again from the next occurrence after `now`: the ones that fell in the pause are neither
    fired nor recorded missed. Resuming an active one changes nothing; a finished one is a Conflict."""
    current = await get_reminder(user_id, reminder_id, reminders=reminders)
    if current.status is ReminderStatus.ACTIVE:
        return current
    if current.status is not ReminderStatus.PAUSED:
        raise Conflict(f"a {current.status.value} reminder cannot be resumed")
    next_due = current.schedule.next_after(now)
    status = ReminderStatus.ACTIVE if next_due else ReminderStatus.FINISHED
    resumed = await reminders.change_status(user_id, reminder_id, (ReminderStatus.PAUSED,), status, next_due)
    return resumed or await get_reminder(user_id, reminder_id, reminders=reminders)


async def delete_reminder(
    user_id: uuid.UUID, reminder_id: uuid.UUID, *, reminders: ReminderRepository
) -> None:
    """Gone for the person; its ledger stays for the record. NotFound when already gone."""
    deleted = await reminders.change_status(user_id, reminder_id, VISIBLE, ReminderStatus.DELETED, None)
    if deleted is None:
        raise NotFound("reminder not found")


async def reminder_occurrences(
    user_id: uuid.UUID, reminder_id: uuid.UUID, limit: int, *, reminders: ReminderRepository
) -> list[Occurrence]:
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    await get_reminder(user_id, reminder_id, reminders=reminders)
    return await reminders.occurrences(user_id, reminder_id, limit)


async def ack_occurrence(
    user_id: uuid.UUID,
    reminder_id: uuid.UUID,
    occurrence_id: uuid.UUID,
    now: datetime,
    *,
    reminders: ReminderRepository,
) -> Occurrence:
    """The person confirms the dose: taken, or late after the policy's threshold. Acknowledging twice
    returns the first acknowledgement; NotFound for others' occurrences."""
    acked = await reminders.ack(user_id, reminder_id, occurrence_id, now)
    if acked is not None:
        return acked
    await get_reminder(user_id, reminder_id, reminders=reminders)
    current = await reminders.occurrence(user_id, occurrence_id)
    if current is None or current.reminder_id != reminder_id:
        raise NotFound("occurrence not found")
    return current


@dataclass(frozen=True, slots=True)
class DoseAck:
    reminder: Reminder | None
    occurrence: Occurrence | None
    reply: str


async def ack_latest_due(user_id: uuid.UUID, now: datetime, *, reminders: ReminderRepository) -> DoseAck:
    """ "I took it": acknowledge the latest fired, unacknowledged occurrence (medicine first)."""
    found = await reminders.latest_unacked(user_id, now, now - ACK_WINDOW)
    if found is None:
        return DoseAck(None, None, "Thank you. There is no reminder waiting for an answer right now.")
    reminder, occurrence = found
    acked = await reminders.ack(user_id, reminder.id, occurrence.id, now) or occurrence
    if reminder.medicine:
        thanks = said(
            f"Thank you, I've noted that you took your {reminder.medicine}.",
            f"Tack, jag har antecknat att du har tagit {reminder.medicine}.",
        )
        return DoseAck(reminder, acked, thanks)
    thanks = said(
        f'Thank you, I\'ve marked "{you_form(reminder.what)}" as done.',
        f'Tack, jag har markerat "{you_form_sv(you_form(reminder.what))}" som gjort.',
    )
    return DoseAck(reminder, acked, thanks)


@dataclass(frozen=True, slots=True)
class Adherence:
    reminder_id: uuid.UUID
    since: datetime
    until: datetime
    taken: int
    late: int
    missed: int
    """All missed doses, `not_delivered` included."""
    pending: int
    not_delivered: int
    """Missed because the reminder could not be delivered in time (the service was down)."""

    @property
    def rate(self) -> float | None:
        """Share of settled doses that were taken (on time or late); None before any."""
        settled = self.taken + self.late + self.missed
        return (self.taken + self.late) / settled if settled else None


async def adherence(
    user_id: uuid.UUID, reminder_id: uuid.UUID, now: datetime, days: int, *, reminders: ReminderRepository
) -> Adherence:
    if not 1 <= days <= 366:
        raise InvalidInput("days must be between 1 and 366")
    await get_reminder(user_id, reminder_id, reminders=reminders)
    since = now - timedelta(days=days)
    counts = await reminders.counts(user_id, reminder_id, since)
    return Adherence(
        reminder_id,
        since,
        now,
        taken=counts.get(OccurrenceStatus.TAKEN, 0),
        late=counts.get(OccurrenceStatus.LATE, 0),
        missed=counts.get(OccurrenceStatus.MISSED, 0),
        pending=counts.get(OccurrenceStatus.PENDING, 0),
        not_delivered=counts.get("not_delivered", 0),
    )


async def took_today(
    user_id: uuid.UUID, what_or_medicine: str, now: datetime, *, reminders: ReminderRepository
) -> str:
    """ "Did I take my heart pill today?", answered from the ledger of the local day, so that nobody
    takes a second dose on a guess."""
    mine = await reminders.of_user(user_id, VISIBLE)
    found = matching(mine, what_or_medicine)
    if not found:
        return said(
            f"I don't have a reminder for {you_form(what_or_medicine)}, so I can't tell.",
            f"Jag har ingen påminnelse om {you_form_sv(what_or_medicine)}, så det kan jag inte säga.",
        )
    days = {r.id: _local_day(now, r.schedule.timezone) for r in found}
    start, end = min(d[0] for d in days.values()), max(d[1] for d in days.values())
    ledger = await reminders.ledger(user_id, [r.id for r in found], start, end)
    sentences: list[Said] = []
    for r in found:
        day_start, day_end = days[r.id]
        own = [o for o in ledger if o.reminder_id == r.id and day_start <= o.due_at < day_end]
        upcoming = [r.next_due_at] if r.next_due_at and _due_today(r, day_start, day_end) else []
        sentences.append(took_today_sentence(DayRecord(r, own, upcoming)))
    return said(" ".join(sentences), " ".join(s.sv for s in sentences))


def _local_day(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone)
    return start, datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)


def _due_today(reminder: Reminder, day_start: datetime, day_end: datetime) -> bool:
    """The next occurrence (not fired yet) falls on this local day."""
    due = reminder.next_due_at
    return reminder.status is ReminderStatus.ACTIVE and due is not None and day_start <= due < day_end


async def escalation_policy(user_id: uuid.UUID, *, reminders: ReminderRepository) -> EscalationPolicy:
    return await reminders.policy(user_id)


async def set_escalation_policy(
    user_id: uuid.UUID, policy: EscalationPolicy, *, reminders: ReminderRepository
) -> EscalationPolicy:
    """Applies to occurrences fired from now on; InvalidInput for a ladder that cannot work."""
    await reminders.set_policy(user_id, policy.check())
    return policy
