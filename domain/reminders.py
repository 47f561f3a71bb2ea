"""Reminders: the model, the plan the scheduler follows to fire them, the escalation ladder, the words.

A reminder is due at the instants of its schedule (domain.recurrence). Each due instant becomes one
*occurrence* row with a deterministic id, so firing is idempotent in SQL: a crash, a retry or a
second scheduler finds the row and does nothing. A fired occurrence is *pending* until the person
acknowledges it: *taken* within the policy's late threshold, *late* after it, *missed* when nobody
acknowledged it in time or when it was never delivered (the scheduler was down longer than the
catch-up window). While it is pending, the person's escalation ladder runs: a re-prompt, then the
family, each step at most once.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.intents import Intent
from domain.ports import NewTask, UnitOfWork
from domain.recurrence import Schedule
from domain.tasks import Lane, TaskStatus
from domain.wording import Said, detect_language, said, swedish, you_form_sv


class ReminderStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"
    """The schedule has no occurrence left (a one-off that fired, COUNT or UNTIL reached)."""
    DELETED = "deleted"
    """Kept for the ledger, gone for the person and the API."""


class OccurrenceStatus(StrEnum):
    PENDING = "pending"
    TAKEN = "taken"
    LATE = "late"
    MISSED = "missed"


class StepAction(StrEnum):
    REPROMPT = "reprompt"
    """Remind the person again."""
    FAMILY = "family"
    """Tell the family contacts (FamilyAlerts)."""


DELIVERY_KIND = "reminder_due"
"""The task kind that shows an occurrence (or a re-prompt) to the person."""
FAMILY_KIND = "reminder_escalation"
"""The task kind that alerts the family."""
DELIVERY_ATTEMPTS = 5
MISSED_NOT_DELIVERED = "not_delivered"
MISSED_NO_ACK = "no_ack"


@dataclass(frozen=True, slots=True)
class Reminder:
    id: uuid.UUID
    user_id: uuid.UUID
    conversation_id: uuid.UUID
    """Deliveries are tasks in the conversation where the reminder was set."""
    what: str
    medicine: str | None
    dose: str | None
    schedule: Schedule
    status: ReminderStatus
    next_due_at: datetime | None
    """The next occurrence to fire; None when finished (or deleted)."""
    escalate: bool
    """Medicine reminders escalate when not acknowledged; others only fire."""
    source_task_id: uuid.UUID | None = None
    """The set_reminder task that created it (one reminder per task)."""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Occurrence:
    id: uuid.UUID
    reminder_id: uuid.UUID
    user_id: uuid.UUID
    due_at: datetime
    status: OccurrenceStatus
    reason: str | None = None
    """Why it was missed: `no_ack` or `not_delivered`."""
    fired_at: datetime | None = None
    """When the scheduler fired it; None for one never delivered."""
    acked_at: datetime | None = None
    late_at: datetime | None = None
    """An acknowledgement after this counts as late."""
    miss_at: datetime | None = None
    """Still pending then, it is recorded missed."""
    task_id: uuid.UUID | None = None
    """The delivery task."""


# ------------------------------------------------------------------------------ escalation ladder


@dataclass(frozen=True, slots=True)
class EscalationStep:
    after_seconds: int
    """Seconds after the occurrence fired."""
    action: StepAction
    contacts: tuple[str, ...] = ()
    """For `family`: the contacts to tell (names or ids of the contacts slice); empty: all family."""


DEFAULT_STEPS = (EscalationStep(600, StepAction.REPROMPT), EscalationStep(1800, StepAction.FAMILY))
DEFAULT_LATE_SECONDS = 1800
MAX_STEPS = 5


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """A person's ladder: what happens while a dose stays unacknowledged. Stored per user."""

    steps: tuple[EscalationStep, ...] = DEFAULT_STEPS
    missed_after_seconds: int = 4 * 3600
    """Unacknowledged this long after firing (or when the next occurrence fires), a dose is missed."""

    @property
    def late_after_seconds(self) -> int:
        """An acknowledgement after the family was told is late (the policy's N minutes)."""
        family = [s.after_seconds for s in self.steps if s.action is StepAction.FAMILY]
        return min(family[0] if family else DEFAULT_LATE_SECONDS, self.missed_after_seconds)

    def check(self) -> EscalationPolicy:
        """Itself, or InvalidInput: at most 5 steps, strictly later one after the other, all before
        the dose is recorded missed (the ladder runs only while a dose is pending)."""
        if len(self.steps) > MAX_STEPS:
            raise InvalidInput(f"an escalation ladder has at most {MAX_STEPS} steps")
        times = [s.after_seconds for s in self.steps]
        if any(not 1 <= t <= 86_400 for t in times) or times != sorted(set(times)):
            raise InvalidInput("steps come 1 s to 24 h after the reminder, each later than the one before")
        if not 1 <= self.missed_after_seconds <= 7 * 86_400:
            raise InvalidInput("missed_after_seconds is between 1 s and 7 days")
        if times and times[-1] >= self.missed_after_seconds:
            raise InvalidInput("every step must come before the dose is recorded missed")
        return self


def steps_to_json(steps: Sequence[EscalationStep]) -> list[dict[str, Any]]:
    return [
        {"after_seconds": s.after_seconds, "action": s.action.value, "contacts": list(s.contacts)}
        for s in steps
    ]


def policy_from_json(steps: Sequence[dict[str, Any]], missed_after_seconds: int) -> EscalationPolicy:
    return EscalationPolicy(
        tuple(
            EscalationStep(int(s["after_seconds"]), StepAction(s["action"]), tuple(s.get("contacts", ())))
            for s in steps
        ),
        missed_after_seconds,
    )


# ------------------------------------------------------------------------------------- ports


class ReminderRepository(Protocol):
    """Reminders, their occurrences (the ledger) and the escalation ladders, for one unit of work."""

    async def add(self, reminder: Reminder) -> Reminder:
        """Insert; idempotent on the id and the source task: returns the stored reminder."""
        ...

    async def get(self, user_id: uuid.UUID, reminder_id: uuid.UUID) -> Reminder | None:
        """The user's own reminder, unless deleted."""
        ...

    async def of_user(self, user_id: uuid.UUID, statuses: Sequence[ReminderStatus]) -> list[Reminder]:
        """Oldest first."""
        ...

    async def change_status(
        self,
        user_id: uuid.UUID,
        reminder_id: uuid.UUID,
        from_statuses: Sequence[ReminderStatus],
        to_status: ReminderStatus,
        next_due_at: datetime | None,
    ) -> Reminder | None:
        """Move it if it is in one of `from_statuses`; None otherwise. Leaving `active` cancels the
        pending escalation steps."""
        ...

    async def occurrences(self, user_id: uuid.UUID, reminder_id: uuid.UUID, limit: int) -> list[Occurrence]:
        """Newest first."""
        ...

    async def ack(
        self, user_id: uuid.UUID, reminder_id: uuid.UUID, occurrence_id: uuid.UUID, at: datetime
    ) -> Occurrence | None:
        """pending -> taken (by `late_at`) or late; missed -> late; pending steps cancelled. None when
        the occurrence is not the user's, not pending or missed, or its reminder is deleted."""
        ...

    async def occurrence(self, user_id: uuid.UUID, occurrence_id: uuid.UUID) -> Occurrence | None: ...

    async def latest_unacked(
        self, user_id: uuid.UUID, now: datetime, since: datetime
    ) -> tuple[Reminder, Occurrence] | None:
        """The occurrence an "I took it" means: fired since `since`, not acknowledged, medicine first,
        then the latest due."""
        ...

    async def counts(self, user_id: uuid.UUID, reminder_id: uuid.UUID, since: datetime) -> dict[str, int]:
        """Occurrences due since `since` by status, plus `not_delivered` (missed, never fired)."""
        ...

    async def ledger(
        self, user_id: uuid.UUID, reminder_ids: Sequence[uuid.UUID], start: datetime, end: datetime
    ) -> list[Occurrence]:
        """Occurrences due in [start, end), oldest first."""
        ...

    async def policy(self, user_id: uuid.UUID) -> EscalationPolicy:
        """The user's ladder, or the default one."""
        ...

    async def set_policy(self, user_id: uuid.UUID, policy: EscalationPolicy) -> None: ...


class ReminderRepositories(Protocol):
    """The repository on a unit of work's connection (wired as a skill port)."""

    def __call__(self, uow: UnitOfWork) -> ReminderRepository: ...


@dataclass(frozen=True, slots=True)
class FamilyAlert:
    id: uuid.UUID
    """Idempotency key: the escalation task's id, one per (occurrence, step)."""
    user_id: uuid.UUID
    reminder_id: uuid.UUID
    occurrence_id: uuid.UUID
    step: int
    text: str
    contacts: tuple[str, ...] = ()
    """Whom to tell; empty: the user's family contacts."""


class FamilyAlerts(Protocol):
    async def escalate(self, alert: FamilyAlert) -> None:
        """Tell the family. Idempotent on `alert.id`; TransientError to be retried."""
        ...


@dataclass(frozen=True, slots=True)
class Delivery:
    id: uuid.UUID
    """Idempotency key: the delivery task's id."""
    user_id: uuid.UUID
    reminder_id: uuid.UUID
    occurrence_id: uuid.UUID
    step: str
    """`due`, `reprompt` or `escalated` (the family was told)."""
    text: str
    due_at: datetime
    """When the occurrence was due (a re-prompt's too)."""


class ReminderPush(Protocol):
    async def push(self, delivery: Delivery) -> None:
        """Push the reminder to the person's app (a webhook, a notification service). Idempotent on
        `delivery.id`. Without it the app sees the delivery task by polling."""
        ...


def ack_path(reminder_id: uuid.UUID, occurrence_id: uuid.UUID) -> str:
    """Where the person's app acknowledges the dose (POST)."""
    return f"/v1/reminders/{reminder_id}/occurrences/{occurrence_id}/ack"


@dataclass(frozen=True, slots=True)
class ReminderLimits:
    """Rules for new reminders, from the settings (wired as a skill port)."""

    min_interval_seconds: float = 60.0
    """Occurrences closer together are refused (a typo must not fire every second)."""
    past_grace_seconds: float = 60.0
    """A one-off time this far in the past still fires at once; older ones are refused."""


# ------------------------------------------------------------------------------- firing plan


def stable_id(at: datetime, *parts: object) -> uuid.UUID:
    """A UUIDv7-shaped id whose time bits are `at` and whose other bits hash `parts`: the same
    inputs give the same id (idempotency), and ids sort by time like the task ids around them."""
    millis = int(at.timestamp()) * 1000 + at.microsecond // 1000
    digest = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:10], "big")
    rand_a, rand_b = (digest >> 62) & 0xFFF, digest & ((1 << 62) - 1)
    return uuid.UUID(int=(millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def occurrence_id(reminder_id: uuid.UUID, due_at: datetime) -> uuid.UUID:
    return stable_id(due_at, "occurrence", reminder_id, due_at.astimezone(UTC).isoformat())


@dataclass(frozen=True, slots=True)
class FiringRules:
    catch_up: timedelta
    """After downtime, an occurrence at most this late still fires; older ones are recorded missed."""
    backlog: int = 100
    """Most occurrences one reminder records in one pass, so a long outage of a frequent rule is
    worked off over several passes instead of stalling one."""


@dataclass(frozen=True, slots=True)
class DueReminder:
    """What the scheduler claimed: the reminder and its owner's ladder."""

    reminder: Reminder
    policy: EscalationPolicy
    language: str | None = None
    """The owner's reply language setting (`en`, `sv`), if set."""


@dataclass(frozen=True, slots=True)
class PlannedOccurrence:
    id: uuid.UUID
    reminder_id: uuid.UUID
    user_id: uuid.UUID
    due_at: datetime
    fire: bool
    """Deliver it now; otherwise it is recorded missed (not delivered)."""
    late_after_seconds: float
    missed_after_seconds: float
    miss_cap: datetime | None
    """The next occurrence: a dose still pending when the next one fires is missed then."""
    task: NewTask | None
    steps: tuple[EscalationStep, ...]


@dataclass(frozen=True, slots=True)
class FirePlan:
    reminder_id: uuid.UUID
    occurrences: tuple[PlannedOccurrence, ...]
    next_due_at: datetime | None
    """None: the schedule is over and the reminder is finished."""


def plan_firing(due: DueReminder, now: datetime, rules: FiringRules) -> FirePlan:
    """Every occurrence due by `now` gets a row; only the latest fires, and only within the catch-up
    window: firing two overdue doses at once invites a double dose, and an old one a dose too late."""
    reminder = due.reminder
    dues: list[datetime] = []
    at = reminder.next_due_at
    while at is not None and at <= now and len(dues) < rules.backlog:
        dues.append(at)
        at = reminder.schedule.next_after(at)
    caught_up = at is None or at > now
    planned = [
        _planned(
            due, instant, fire=caught_up and i == len(dues) - 1 and now - instant <= rules.catch_up, cap=at
        )
        for i, instant in enumerate(dues)
    ]
    return FirePlan(reminder.id, tuple(planned), at)


def _planned(due: DueReminder, due_at: datetime, *, fire: bool, cap: datetime | None) -> PlannedOccurrence:
    reminder, policy = due.reminder, due.policy
    occ_id = occurrence_id(reminder.id, due_at)
    task = None
    if fire:
        task_id = stable_id(due_at, occ_id, "due")
        task = delivery_task(reminder, occ_id, due_at, "due", due_text(reminder), task_id, due.language)
    return PlannedOccurrence(
        id=occ_id,
        reminder_id=reminder.id,
        user_id=reminder.user_id,
        due_at=due_at,
        fire=fire,
        late_after_seconds=policy.late_after_seconds,
        missed_after_seconds=policy.missed_after_seconds,
        miss_cap=cap,
        task=task,
        steps=policy.steps if fire and reminder.escalate else (),
    )


def delivery_task(
    reminder: Reminder,
    occ_id: uuid.UUID,
    due_at: datetime,
    step: str,
    text: str,
    task_id: uuid.UUID,
    language: str | None = None,
) -> NewTask:
    """A task of the person, in the reminder's conversation, that carries the words to show. It is
    inserted unpublished: the outbox relay publishes it right after the scheduler's pass.

    The words are in the owner's language: their setting, else the language the reminder itself
    was written in (the app shows `reply` as soon as the task exists, and pushes send it)."""
    kind = FAMILY_KIND if step == "family" else DELIVERY_KIND
    shown = language or detect_language(reminder.what)
    return NewTask(
        id=task_id,
        user_id=reminder.user_id,
        conversation_id=reminder.conversation_id,
        kind=kind,
        lane=Lane.REMINDER,
        intent=Intent.SET_REMINDER.value,
        slots=_slots(reminder),
        input={
            "reminder_id": str(reminder.id),
            "occurrence_id": str(occ_id),
            "due_at": due_at.isoformat(),
            "step": step,
            "timezone": reminder.schedule.timezone,
            "language": shown,
        },
        parser="scheduler",
        max_attempts=DELIVERY_ATTEMPTS,
        idempotency_key=None,
        request_hash=None,
        status=TaskStatus.QUEUED,
        reply=swedish(text) if shown == "sv" else str(text),
        reason=f"reminder {step}",
        presumed_published=False,
    )


def _slots(reminder: Reminder) -> dict[str, Any]:
    slots = {"what": reminder.what, "medicine": reminder.medicine, "dose": reminder.dose}
    return {name: value for name, value in slots.items() if value}


@dataclass(frozen=True, slots=True)
class DueStep:
    """An escalation step whose time has come, with what it needs to decide and to speak."""

    reminder: Reminder
    occurrence: Occurrence
    step: int
    action: StepAction
    contacts: tuple[str, ...]
    due_at: datetime
    user_name: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class StepPlan:
    occurrence_id: uuid.UUID
    step: int
    task: NewTask | None
    """None: the step is cancelled (acknowledged meanwhile, or the reminder is no longer active)."""


def plan_step(due: DueStep) -> StepPlan:
    occ, reminder = due.occurrence, due.reminder
    if occ.status is not OccurrenceStatus.PENDING or reminder.status is not ReminderStatus.ACTIVE:
        return StepPlan(occ.id, due.step, None)
    task_id = stable_id(due.due_at, occ.id, "step", due.step)
    if due.action is StepAction.REPROMPT:
        text = reprompt_text(reminder, occ.due_at)
        return StepPlan(
            occ.id,
            due.step,
            delivery_task(reminder, occ.id, occ.due_at, "reprompt", text, task_id, due.language),
        )
    task = delivery_task(
        reminder, occ.id, occ.due_at, "family", family_reply(reminder), task_id, due.language
    )
    alert = {
        "step_number": due.step,
        "family_text": family_text(reminder, occ.due_at, due.user_name),
        "contacts": list(due.contacts),
    }
    return StepPlan(occ.id, due.step, _with_input(task, alert))


def _with_input(task: NewTask, extra: dict[str, Any]) -> NewTask:
    return replace(task, input=task.input | extra)


# ---------------------------------------------------------------------------------- the words

_YOU = [
    (re.compile(r"\bmy\b", re.I), "your"),
    (re.compile(r"\bmine\b", re.I), "yours"),
    (re.compile(r"\bmyself\b", re.I), "yourself"),
    (re.compile(r"\bI'm\b"), "you're"),
    (re.compile(r"\bI am\b"), "you are"),
    (re.compile(r"\bI\b"), "you"),
]
_VERB = re.compile(
    r"^(take|call|ring|phone|water|drink|eat|go|pick|buy|pay|feed|walk|check|book|visit|send|put|bring|get|"
    r"do|clean|wash|collect|measure|see|meet|use|apply|charge|turn|lock|prepare|make|write|read|watch|"
    r"empty|change|stretch|exercise|test|order|renew|post|leave|wake|start|stop|remember|tell|ask|text|"
    r"email|sign|return|fill|refill|close|open|move|give|inject)\b",
    re.I,
)  # fmt: skip


def you_form(text: str) -> str:
    """The person's words said back to them: "take my pills" -> "take your pills"."""
    for pattern, replacement in _YOU:
        text = pattern.sub(replacement, text)
    return text.strip()


def _phrase(what: str, dose: str | None) -> str:
    """ "take your heart pills (2 tablets)": the what, with the dose unless it already says it."""
    said = you_form(what).removeprefix("to ").strip()
    if dose and dose.lower() not in said.lower():
        said = f"{said} ({dose})"
    return said


def _action(reminder: Reminder) -> str:
    return _phrase(reminder.what, reminder.dose)


_TAKE_SV = re.compile(r"^(?:att\s+)?(?:ta|take)\s+", re.I)


_VERB_SV = re.compile(
    r"^(ta|ringa|vattna|dricka|äta|gå|hämta|köpa|betala|mata|rasta|kolla|boka|besöka|skicka|lägga|"
    r"göra|städa|tvätta|mäta|träffa|använda|smörja|ladda|stänga|låsa|laga|skriva|läsa|titta|tömma|"
    r"byta|stretcha|träna|testa|beställa|förnya|posta|gå ut|vakna|börja|sluta|komma ihåg|fråga|"
    r"sms:a|mejla|fylla|öppna|flytta|ge|handla|packa|duscha|sova)\b",
    re.I,
)  # fmt: skip


def _phrase_sv(what: str, dose: str | None) -> str:
    """The what said back in Swedish: "att ta dina tabletter (2 st)", or the thing itself.
    The person's own words stay theirs; only "min/mina/jag" become "din/dina/du" (and an
    English "my" becomes "your", as in the English reply)."""
    phrase = you_form_sv(you_form(what)).removeprefix("to ").strip()
    if dose and dose.lower() not in phrase.lower():
        phrase = f"{phrase} ({dose})"
    if phrase.lower().startswith("att "):
        return phrase
    return f"att {phrase}" if _VERB_SV.match(phrase) or _VERB.match(phrase) else phrase


def _action_sv(reminder: Reminder) -> str:
    return _phrase_sv(reminder.what, reminder.dose)


def _starts_with_verb(what: str) -> bool:
    return bool(_VERB.match(you_form(what).removeprefix("to ").strip()))


_STATEMENT = re.compile(
    r"^(?:the|my|our|his|her|their)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:is|are|was|were|will|go|goes|come|comes|arrives?|needs?|starts?|opens?|closes?|has|have)\b",
    re.I,
)
"""A thing said as a sentence ("the bins go out", "my grandson is coming"): "remind you that ..."."""


def _linking_word(what: str) -> str:
    """ "to" before an action, "that" before a sentence, else "about" ("about your dentist")."""
    if _starts_with_verb(what):
        return "to"
    return "that" if _STATEMENT.match(what.strip()) else "about"


def _is_action(reminder: Reminder) -> bool:
    return _starts_with_verb(reminder.what)


_SAYS_WHEN = re.compile(
    r"\d|\b(?:today|tonight|tomorrow|(?:mon|tues|wednes|thurs|fri|satur|sun)day|noon|midnight)\b", re.I
)
"""A thing that carries its own time ("the dentist on thursday at 2", said with "remind me the night
before"): the reminder's time goes first, so the two times are not read as one."""


def _when_and_what(what: str, about: str, about_sv: str, when: str) -> tuple[str, str]:
    """ "to take your pills every day at 08:00", or "on Wednesday at 20:00 about the dentist on
    thursday at 2" when the thing says a time of its own; English, then Swedish."""
    if _SAYS_WHEN.search(what):
        return f"{when} {_linking_word(what)} {about}", f"{swedish(when)} om {about_sv}"
    return f"{_linking_word(what)} {about} {when}", f"om {about_sv} {swedish(when)}"


def read_back_text(what: str, dose: str | None, when: str) -> Said:
    """The question before a reminder is set, in the words `set_reply` will confirm it with:
    "Remind you to take your heart pills (2 tablets) every day at 08:00?"."""
    en, sv = _when_and_what(what, _phrase(what, dose), _phrase_sv(what, dose), when)
    return said(f"Remind you {en}?", f"Ska jag påminna dig {sv}?")


def due_text(reminder: Reminder) -> Said:
    """ "Time to take your heart pills (2 tablets)."""
    action, action_sv = _action(reminder), _action_sv(reminder)
    en = f"Time to {action}." if _is_action(reminder) else f"Reminder: {action}."
    return said(en, f"Dags {action_sv}." if action_sv.startswith("att ") else f"Påminnelse: {action_sv}.")


def reprompt_text(reminder: Reminder, due_at: datetime) -> Said:
    clock = f"{due_at.astimezone(ZoneInfo(reminder.schedule.timezone)):%H:%M}"
    sv = f"Jag vill bara höra om det blev gjort: påminnelsen kl. {clock}, {_action_sv(reminder)}."
    if _is_action(reminder):
        return said(f"Just checking: did you {_action(reminder)}? It was due at {clock}.", sv)
    return said(f"Just checking about your {clock} reminder: {_action(reminder)}. Is it done?", sv)


def family_text(reminder: Reminder, due_at: datetime, user_name: str | None) -> str:
    """What the family reads: who, which dose, when; nothing else."""
    who = user_name or "Your family member"
    clock = f"{due_at.astimezone(ZoneInfo(reminder.schedule.timezone)):%H:%M}"
    if reminder.medicine:
        dose = f" ({reminder.dose})" if reminder.dose else ""
        return f"{who} has not confirmed taking {reminder.medicine}{dose}, due at {clock}."
    return f'{who} has not confirmed the reminder "{reminder.what}", due at {clock}.'


def family_reply(reminder: Reminder) -> Said:
    about = f"your {reminder.medicine}" if reminder.medicine else "your reminder"
    about_sv = reminder.medicine if reminder.medicine else "din påminnelse"
    return said(
        f"I didn't hear back from you about {about}, so I've let your family know.",
        f"Jag fick inget svar från dig om {about_sv}, så jag har sagt till din familj.",
    )


def set_reply(reminder: Reminder, now: datetime) -> Said:
    """ "I'll remind you to take your heart pills every day at 08:00."""
    when = reminder.schedule.describe(now)
    en, sv = _when_and_what(reminder.what, _action(reminder), _action_sv(reminder), when)
    return said(f"I'll remind you {en}.", f"Jag påminner dig {sv}.")


def list_reply(reminders: Sequence[Reminder], now: datetime) -> str:
    """All the person's reminders in one plain paragraph."""
    if not reminders:
        return "You have no reminders."
    items, items_sv = [], []
    for r in reminders:
        paused = r.status is ReminderStatus.PAUSED
        when = r.schedule.describe(now)
        items.append(f"{_action(r)} {when}{' (paused)' if paused else ''}")
        items_sv.append(f"{_action_sv(r).removeprefix('att ')} {when.sv}{' (pausad)' if paused else ''}")
    if len(items) == 1:
        return said(f"You have one reminder: {items[0]}.", f"Du har en påminnelse: {items_sv[0]}.")
    return said(
        f"You have {len(items)} reminders: " + "; ".join(items[:-1]) + f"; and {items[-1]}.",
        f"Du har {len(items)} påminnelser: " + "; ".join(items_sv[:-1]) + f"; och {items_sv[-1]}.",
    )


# ---------------------------------------------------------------- "I took it", "did I take …?"

_ACK = re.compile(
    r"^\s*(?:yes[,.!]?\s+)?(?:"
    r"i(?:\s+have|'ve)?\s+(?:just\s+|already\s+)?(?:took|taken|had|swallowed)\s+"
    r"(?:it|them|my|mine|the\s+(?:pill|tablet|medicine|med|dose|drop)s?)\b"
    r"|(?:all\s+)?done\s*[.!]*\s*$|taken\s*[.!]*\s*$|took\s+(?:it|them)\b)",
    re.I,
)
_TOOK_TODAY = re.compile(
    r"\b(?:did|have)\s+i\s+(?:already\s+|just\s+)?(?:take|taken|had|have)\s+(?P<what>.+?)"
    r"(?:\s+(?:today|this\s+morning|this\s+evening|tonight|yet|already))*\s*[?.!]*\s*$",
    re.I,
)
_DETERMINER = re.compile(r"^(?:my|the|a|an|our|those|these|that|this)\s+", re.I)
FollowUp = Literal["ack", "took_today"]


def dose_followup(text: str) -> FollowUp | None:
    """Whether a message acknowledges a dose ("I took it") or asks about one ("did I take my heart
    pill today?"); None for anything else."""
    if _TOOK_TODAY.search(text):
        return "took_today"
    if "?" not in text and _ACK.match(text):
        return "ack"
    return None


def took_today_subject(text: str) -> str | None:
    """ "did I take my heart pill today?" -> "heart pill"."""
    match = _TOOK_TODAY.search(text)
    if match is None:
        return None
    return _DETERMINER.sub("", match.group("what").strip()).strip() or None


_GENERIC_WORDS = frozenset(
    {"pill", "tablet", "medicine", "med", "medication", "dose", "drug", "capsule", "drop", "it", "them"}
)
_STOP_WORDS = frozenset({"my", "the", "a", "an", "of", "to", "take", "your", "and", "for", "some", "one"})


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words} - _STOP_WORDS


def matching(reminders: Sequence[Reminder], subject: str) -> list[Reminder]:
    """The reminders a person means by "my heart pill": most words in common; with only generic
    words ("my pills"), every medicine reminder."""
    wanted = _tokens(subject) - _GENERIC_WORDS
    if not wanted:
        return [r for r in reminders if r.medicine or r.dose]
    scored = [(len(wanted & _tokens(f"{r.medicine or ''} {r.what}")), r) for r in reminders]
    best = max((score for score, _ in scored), default=0)
    return [r for score, r in scored if score == best and best > 0]


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One reminder's doses on one local day, for "did I take it today?"."""

    reminder: Reminder
    occurrences: list[Occurrence] = field(default_factory=list)
    upcoming: list[datetime] = field(default_factory=list)
    """Occurrences later today that have not fired yet."""


_TAKE = re.compile(r"^(?:to\s+)?(?:take|have|use|apply|drink)\s+", re.I)


def took_today_sentence(record: DayRecord) -> Said:
    """Plain, and careful about double doses: what the ledger says was taken, and when."""
    reminder = record.reminder
    zone = ZoneInfo(reminder.schedule.timezone)
    name = f"your {reminder.medicine}" if reminder.medicine else _TAKE.sub("", you_form(reminder.what))
    name_sv = reminder.medicine or _TAKE_SV.sub("", _phrase_sv(reminder.what, None))
    done = (OccurrenceStatus.TAKEN, OccurrenceStatus.LATE)
    taken = ", ".join(_clock(o.acked_at or o.due_at, zone) for o in record.occurrences if o.status in done)
    open_ = ", ".join(_clock(o.due_at, zone) for o in record.occurrences if o.status not in done)
    next_at = _clock(record.upcoming[0], zone) if record.upcoming else ""
    later = f" The next one is at {next_at}." if next_at else ""
    later_sv = f" Nästa är kl. {next_at}." if next_at else ""
    if taken:
        first = said(f"Yes, you took {name} today at {taken}.", f"Ja, du tog {name_sv} i dag kl. {taken}.")
        if open_:
            return said(
                f"{first} The {open_} dose is not marked as taken.{later}",
                f"{first.sv} Dosen kl. {open_} är inte markerad som tagen.{later_sv}",
            )
        return said(
            f"{first} You don't need to take it again now.{later}",
            f"{first.sv} Du behöver inte ta den igen nu.{later_sv}",
        )
    if open_:
        return said(
            f"I have no record that you took {name} today; it was due at {open_}. "
            "If you're not sure, check your pill box before taking more.",
            f"Jag har inget som visar att du har tagit {name_sv} i dag; den skulle tas kl. {open_}. "
            "Om du är osäker, titta i din dosett innan du tar mer.",
        )
    if next_at:
        return said(
            f"Not yet: the next dose of {name} is at {next_at} today.",
            f"Inte än: nästa dos av {name_sv} är kl. {next_at} i dag.",
        )
    return said(f"No dose of {name} was due today.", f"Ingen dos av {name_sv} skulle tas i dag.")


def _clock(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%H:%M}"
