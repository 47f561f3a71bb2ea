"""The conversation rules: what to ask for, when to confirm, how a follow-up fills a pending task.

Replies are short, concrete and never blame the person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.booking_flow import choose_alternative
from domain.errors import InvalidInput
from domain.intents import Intent, ParsedIntent
from domain.party_size import NUMBER_WORDS, extract_party_size
from domain.recurrence import Schedule, normalize_rule
from domain.reminders import read_back_text, you_form
from domain.slot_extraction import extract_slots
from domain.slots import Slots, missing_slots
from domain.tasks import TaskStatus
from domain.timeexpr import resolve
from domain.venue_slots import venue
from domain.wording import Said, clock_sv, contact_sv, said, short_date_sv, short_weekday_sv, weekday_sv

CONFIRM = frozenset(
    {
        Intent.BOOK_RESTAURANT,
        Intent.BOOK_APPOINTMENT,
        Intent.CANCEL_BOOKING,
        Intent.NOTIFY_FAMILY,
        Intent.SET_REMINDER,
    }
)
"""Intents whose effect cannot simply be taken back: read back and confirmed first. (Reminders
may skip this by a user setting.)"""

READ_BACK_BY_SKILL = frozenset({Intent.BOOK_RESTAURANT, Intent.BOOK_APPOINTMENT})
"""Bookings are checked and held by their skill first, which then reads them back with the venue's
real name and availability; so a complete booking request goes straight to the queue."""

_UNDO = re.compile(
    r"^\s*(?:please\s+)?(?:undo(?:\s+(?:that|it))?|cancel\s+(?:that|it))(?:\s+please)?[.!]?\s*$", re.I
)


def is_undo(text: str) -> bool:
    """'Undo' / 'cancel that' with nothing waiting: take back what was just done."""
    return bool(_UNDO.match(text))


QUESTIONS = {
    "party_size": "For how many people?",
    "start": "What day and time would you like?",
    "venue": "Where would you like to book?",
    "what": "What should I remind you about?",
    "contact": "Who should I send it to?",
    "message": "What should I tell them?",
    "question": "What would you like to know?",
}

MORE_PLEASE = "Could you tell me more?"
CHECKING_REPLY = "Let me check that for you."
UNSURE_REPLY = "Sorry, I'm not sure what you'd like me to do. Could you say it another way?"
UNSUPPORTED_REPLY = "I'm sorry, I can't do that yet."

CLARIFY_QUESTIONS = {
    Intent.BOOK_RESTAURANT: "Did you want me to book a table?",
    Intent.BOOK_APPOINTMENT: "Did you want me to book an appointment?",
    Intent.CANCEL_BOOKING: "Did you want me to cancel a booking?",
    Intent.BOOKING_STATUS: "Did you want me to check one of your bookings?",
    Intent.SET_REMINDER: "Did you want me to set a reminder?",
    Intent.LIST_REMINDERS: "Did you want to hear your reminders?",
    Intent.NOTIFY_FAMILY: "Did you want me to send someone a message?",
}
"""When the parser leans towards an action without enough confidence, a yes/no question about
that one action: easier to answer than "say it another way", and nothing happens without a yes
(and, for a booking, a cancellation or a message, the read-back after it)."""
CLARIFY_NO_REPLY = "All right. What would you like me to do?"

_YES = re.compile(
    r"^(yes|yeah|yep|yup|sure|ok|okay|please do|do it|go ahead|correct|that's right|that is right|"
    r"right|confirm|yes please|please|absolutely|of course|fine|"
    r"ja|japp|javisst|visst|gärna|absolut|det stämmer|okej)\b", re.I
)  # fmt: skip
"""English and Swedish (the reply languages)."""
_NO = re.compile(
    r"^(no|nope|nah|cancel|don't|do not|stop|never mind|nevermind|forget it|not now|wrong|"
    r"nej|nä|avbryt|glöm det|inte nu|fel)\b", re.I
)  # fmt: skip


class Answer:
    YES = "yes"
    NO = "no"
    OTHER = "other"


def yes_or_no(text: str) -> str:
    cleaned = text.strip().lower().rstrip(".!")
    if _NO.match(cleaned):
        return Answer.NO
    if _YES.match(cleaned):
        return Answer.YES
    return Answer.OTHER


@dataclass(frozen=True, slots=True)
class Step:
    """Where a parsed (or completed) request goes next, and what the person is told."""

    status: TaskStatus
    reply: str | None
    reason: str


def next_step(intent: Intent, slots: Slots, now: datetime, timezone: str, *, confirm_reminders: bool) -> Step:
    missing = missing_slots(intent, slots)
    if missing:
        return Step(
            TaskStatus.NEEDS_INPUT,
            QUESTIONS.get(missing[0], MORE_PLEASE),
            f"asked for {missing[0]}",
        )
    if intent in READ_BACK_BY_SKILL:
        return Step(TaskStatus.QUEUED, CHECKING_REPLY, "checking availability")
    needs_confirmation = intent in CONFIRM and (intent is not Intent.SET_REMINDER or confirm_reminders)
    if needs_confirmation:
        return Step(
            TaskStatus.AWAITING_CONFIRMATION, read_back(intent, slots, now, timezone), "awaiting confirmation"
        )
    return Step(TaskStatus.QUEUED, None, "accepted")


def clarify_candidate(parsed: ParsedIntent) -> Intent | None:
    """The action to ask about when the parser was unsure, if it leaned towards one."""
    if not parsed.unsure or parsed.candidate is None:
        return None
    try:
        candidate = Intent(parsed.candidate)
    except ValueError:
        return None
    return candidate if candidate in CLARIFY_QUESTIONS else None


def first_step(parsed: ParsedIntent, now: datetime, timezone: str, *, confirm_reminders: bool) -> Step:
    candidate = clarify_candidate(parsed)
    if candidate is not None:
        question = CLARIFY_QUESTIONS[candidate]
        return Step(TaskStatus.NEEDS_INPUT, question, f"asked whether it is {candidate.value}")
    if parsed.unsupported or parsed.unsure or parsed.intent in (Intent.NONE, Intent.ASK_QUESTION):
        return Step(TaskStatus.QUEUED, None, "accepted")
    if parsed.confirmed:
        return Step(TaskStatus.QUEUED, None, "confirmed by the request itself")
    slots = Slots.model_validate(parsed.slots)
    return next_step(parsed.intent, slots, now, timezone, confirm_reminders=confirm_reminders)


def fill(
    intent: Intent,
    slots: Slots,
    text: str,
    now: datetime,
    timezone: str,
    offered: list[datetime] | None = None,
) -> Slots | None:
    """The pending task's slots completed by a follow-up message, or None if it answers nothing.
    `offered`: times a skill proposed instead of a taken one; "the first one" or "18:30" picks one."""
    if offered and slots.start is None:
        chosen = choose_alternative(text, offered, now, timezone)
        if chosen is not None:
            return slots.model_copy(update={"start": chosen})
    missing = missing_slots(intent, slots)
    found = extract_slots(intent, text, now, timezone)
    updates: dict[str, Any] = {k: v for k, v in found.model_dump().items() if v is not None and k in missing}
    if missing and missing[0] not in updates:
        direct = _direct_answer(missing[0], text, now, timezone)
        if direct is not None:
            updates[missing[0]] = direct
    if not updates:
        return None
    return slots.model_copy(update=updates)


def _direct_answer(slot: str, text: str, now: datetime, timezone: str) -> Any:
    """A bare answer to the question just asked: "four", "Luigi's", "my daughter"."""
    cleaned = text.strip().strip(".!?").strip()
    if slot == "party_size":
        return extract_party_size(text) or _bare_number(cleaned)
    if slot == "start":
        when = resolve(text, now, timezone)
        return when.start if when and not when.date_only else None
    if slot == "venue":
        return venue(text) or (cleaned if 0 < len(cleaned.split()) <= 5 else None)
    if slot in ("what", "contact", "message", "question"):
        return cleaned or None
    return None


def _bare_number(text: str) -> int | None:
    match = re.fullmatch(
        r"(?:we are |we're |there are |there will be |just )?(\w+)(?: of us| people| persons)?", text, re.I
    )
    if not match:
        return None
    token = match.group(1).lower()
    value = int(token) if token.isdigit() else NUMBER_WORDS.get(token)
    return value if value and 1 <= value <= 50 else None


def read_back(intent: Intent, slots: Slots, now: datetime, timezone: str) -> str:
    """The question before an irreversible action, in English and Swedish (a `Said`)."""
    when = _when(slots.start, now, timezone, clock=not _whole_day(slots)) if slots.start else said("", "")
    venue = slots.venue or ""
    if intent is Intent.BOOK_RESTAURANT:
        return said(
            f"Book a table for {slots.party_size} at {venue}, {when}?",
            f"Boka ett bord för {slots.party_size} på {venue}, {when.sv}?",
        )
    if intent is Intent.BOOK_APPOINTMENT:
        what = said("an appointment", "en tid")
        if slots.service:
            what = said(f"a {slots.service}", f"en tid för {slots.service}")
        return said(f"Book {what} at {venue}, {when}?", f"Boka {what.sv} på {venue}, {when.sv}?")
    if intent is Intent.CANCEL_BOOKING:
        at = said(f"at {venue}", f"på {venue}") if venue else said("", "")
        return said(
            " ".join(f"Cancel your booking {at} {when}".split()) + "?",
            " ".join(f"Avboka din bokning {at.sv} {when.sv}".split()) + "?",
        )
    if intent is Intent.NOTIFY_FAMILY:
        contact = slots.contact or ""
        return said(
            f'Send {you_form(contact)} this message: "{slots.message}"?',
            f'Skicka det här meddelandet till {contact_sv(contact)}: "{slots.message}"?',
        )
    if intent is Intent.SET_REMINDER:
        return read_back_text(slots.what or "", slots.dose, _reminder_when(slots, when, now, timezone))
    return said("Shall I go ahead?", "Ska jag göra det?")


def _reminder_when(slots: Slots, when: Said, now: datetime, timezone: str) -> Said:
    """ "every day at 08:00" for a repeating reminder, as its confirmation will say it; the
    one-off's day and time otherwise (or when the rule cannot be read: the skill rejects it)."""
    if not (slots.recurrence and slots.start):
        return when
    try:
        first = slots.start.astimezone(UTC).replace(microsecond=0)
        return Schedule(first, normalize_rule(slots.recurrence), timezone).describe(now)
    except (InvalidInput, ValueError):
        return said(f"{when} (repeating)", f"{when.sv} (återkommande)")


def _whole_day(slots: Slots) -> bool:
    """A day said without a time ("cancel my booking on friday"): start and end are its midnights."""
    start, end = slots.start, slots.end
    if start is None or end is None or (start.hour, start.minute, start.second) != (0, 0, 0):
        return False
    return end.astimezone(start.tzinfo) == start + timedelta(days=1)


def _when(start: datetime, now: datetime, timezone: str, *, clock: bool = True) -> Said:
    """'tomorrow (Tue 24 Nov) at 19:00': the relative day a person says, and the date to be sure.
    Without the clock for a whole day."""
    zone = ZoneInfo(timezone)
    local, today = start.astimezone(zone), now.astimezone(zone).date()
    days = (local.date() - today).days
    at, klockan = (f" at {local:%H:%M}", f" {clock_sv(local)}") if clock else ("", "")
    if days in (0, 1):
        return said(
            f"{'today' if days == 0 else 'tomorrow'} ({local:%a} {local.day} {local:%b}){at}",
            f"{'i dag' if days == 0 else 'i morgon'} "
            f"({short_weekday_sv(local)} {short_date_sv(local)}){klockan}",
        )
    if 1 < days < 7:
        return said(
            f"on {local:%A} ({local.day} {local:%b}){at}",
            f"på {weekday_sv(local)} ({short_date_sv(local)}){klockan}",
        )
    return said(
        f"on {local:%a} {local.day} {local:%b}{at}",
        f"{short_weekday_sv(local)} {short_date_sv(local)}{klockan}",
    )
