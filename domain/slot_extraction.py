"""Rule-based slot extraction for the local parser: pure functions over the message text.

Names found here (venues, contacts) are only what the person said; they are matched against the
user's own venues and contacts when the skill runs, never trusted as identifiers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.intents import Intent
from domain.party_size import extract_party_size
from domain.recurrence import Schedule, earlier_rule
from domain.reminder_slots import Lead, dose, lead_time, medicine, reminder_what
from domain.slots import Slots
from domain.timeexpr import TimeExpr, resolve
from domain.venue_slots import venue

_SERVICES = (
    "haircut", "hair cut", "trim", "colour", "color", "blow dry", "shave", "manicure", "pedicure", "nails",
    "massage", "check-up", "checkup", "cleaning", "filling", "eye test", "eye exam", "hearing test",
    "physiotherapy", "physio", "blood test", "vaccination", "flu shot", "dentist", "doctor", "hairdresser",
    "barber", "optician", "podiatrist", "chiropodist", "vet",
)  # fmt: skip
_SERVICE = re.compile(r"\b(" + "|".join(map(re.escape, _SERVICES)) + r")\b", re.I)
_CONTACT = re.compile(
    r"\b(?:tell|text|message|msg|email|e-mail|notify|inform|let|ask|remind|send(?:\s+a\s+(?:message|text|note))?"
    r"(?:\s+to)?)\s+(?P<c>my\s+[a-z-]+(?:\s+in\s+law)?|(?-i:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)|mum|mom|dad)\b",
    re.I,
)
_MESSAGE = re.compile(
    r"\b(?:that|saying|to say|say|know|:)\s+(?P<m>.+)$|\b(?:know|tell \w+(?:\s\w+)?)\s+(?P<m2>i'?m .+|i .+)$",
    re.I,
)
_LEAD = re.compile(r"^\s*(?:that|to say|saying|say|know(?:\s+that)?|:|,)?\s*", re.I)
_REF = re.compile(r"\b(?:ref(?:erence)?|booking\s+(?:number|code|id)|confirmation)\s*(?:number|no\.?|#|:)?\s*"
                  r"(?P<r>[A-Z0-9-]{4,})\b", re.I)  # fmt: skip


def extract_slots(intent: Intent, text: str, now: datetime, timezone: str) -> Slots:
    """The slots the intent uses, as far as the text states them."""
    lead = lead_time(text) if intent is Intent.SET_REMINDER else None
    timed = _blanked(text, lead.span) if lead else text
    when = resolve(timed, now, timezone) if intent in _TIMED else None  # the costliest rule: only when used
    rest = _without(text, when)
    slots = Slots()
    if intent in (
        Intent.BOOK_RESTAURANT,
        Intent.BOOK_APPOINTMENT,
        Intent.CANCEL_BOOKING,
        Intent.BOOKING_STATUS,
    ):
        slots.venue = venue(rest)
        slots.booking_ref = _first(_REF, text, "r")
    if intent is Intent.BOOK_RESTAURANT:
        slots.party_size = extract_party_size(text)
    if intent is Intent.BOOK_APPOINTMENT:
        slots.service = _first(_SERVICE, text, 1)
    if intent is Intent.SET_REMINDER:
        _reminder_slots(slots, rest)
    if intent is Intent.NOTIFY_FAMILY:
        _notify_slots(slots, text)
    if intent is Intent.ASK_QUESTION:
        slots.question = text.strip()[:1000] or None
    if intent in _TIMED and when is not None:
        _time_slots(slots, when, whole_day=intent in _FINDS_BOOKING)
    if lead and when and slots.start is not None:
        _come_earlier(slots, slots.start, lead, now)
        if slots.recurrence is None:
            slots.what = _with_its_time(text, when, slots.what)
    return _within_limits(slots)


_TIMED = frozenset(
    {
        Intent.BOOK_RESTAURANT,
        Intent.BOOK_APPOINTMENT,
        Intent.CANCEL_BOOKING,
        Intent.BOOKING_STATUS,
        Intent.SET_REMINDER,
    }
)
"""Intents whose time is a slot; in a family message a time is part of what to say."""
_FINDS_BOOKING = frozenset({Intent.CANCEL_BOOKING, Intent.BOOKING_STATUS})
"""Intents for which a day alone is enough: it finds the booking ("cancel my dentist on friday")."""


_TEXT_LIMITS = {
    name: limit
    for name, field in Slots.model_fields.items()
    for limit in (getattr(rule, "max_length", None) for rule in field.metadata)
    if isinstance(limit, int)
}


def _within_limits(slots: Slots) -> Slots:
    """Words read from a long message are cut at a word to the slot's limit: the message is up to
    4,000 characters and a slot that broke its schema would fail the task instead of being asked
    about in the read-back."""
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(slots, name)
        if isinstance(value, str) and len(value) > limit:
            head = value[:limit]
            whole_words = value[limit].isspace() or " " not in head
            setattr(slots, name, (head if whole_words else head.rsplit(None, 1)[0]).rstrip(" ,;:"))
    return slots


def _notify_slots(slots: Slots, text: str) -> None:
    """'tell my daughter I'll be late' -> contact 'my daughter', message "I'll be late"."""
    match = _CONTACT.search(text)
    if match is None:
        slots.message = message(text)
        return
    slots.contact = match.group("c").strip()
    said = message(text[match.end() :]) or _tidy(_LEAD.sub("", text[match.end() :]))
    slots.message = said or None


def _time_slots(slots: Slots, when: TimeExpr, *, whole_day: bool) -> None:
    """A day without a time is asked about when booking, but names a booking to find: then it is
    the whole day, from local midnight to the next."""
    if not when.date_only or when.recurrence:
        slots.start = when.start
    elif whole_day and when.start is not None:
        slots.start, slots.end = when.start, when.start + timedelta(days=1)  # wall-clock: the next midnight
        return
    slots.end = when.end
    slots.recurrence = when.recurrence


def _blanked(text: str, span: tuple[int, int]) -> str:
    """The text with a span turned to spaces: what follows keeps its offsets."""
    start, end = span
    return text[:start] + " " * (end - start) + text[end:]


def _with_its_time(text: str, when: TimeExpr, what: str | None) -> str | None:
    """A reminder that comes ahead of a one-off keeps the event's time in its words ("the dentist on
    thursday at 2"): it rings at another time, and must still say when the thing is."""
    whole = reminder_what(text)
    return whole if whole and when.text in whole else what


def _come_earlier(slots: Slots, start: datetime, lead: Lead, now: datetime) -> None:
    """ "remind me the day before": the reminder comes that much before the time said, on the wall
    clock; a repeating one every time. A rule that cannot be moved keeps the time said, which the
    read-back shows."""
    earlier = start - lead.before  # aware arithmetic in one zone: wall-clock time
    if lead.at_hour is not None:  # "the night before"
        earlier = earlier.replace(hour=lead.at_hour, minute=0)
    if earlier >= start:  # "that morning" of something at 08:00: not later than the thing itself
        return
    if slots.recurrence is None:
        slots.start = earlier
        return
    rule = earlier_rule(slots.recurrence, lead.before, lead.at_hour)
    if rule is None or not isinstance(earlier.tzinfo, ZoneInfo):
        return
    first = (
        earlier
        if earlier > now
        else Schedule(earlier.astimezone(UTC), rule, earlier.tzinfo.key).next_after(now)
    )
    if first is not None:
        slots.recurrence, slots.start = rule, first.astimezone(earlier.tzinfo)


def _reminder_slots(slots: Slots, rest: str) -> None:
    slots.what = reminder_what(rest)
    slots.medicine = medicine(rest, slots.what)
    slots.dose = dose(rest)


def message(text: str) -> str | None:
    match = _MESSAGE.search(text)
    if not match:
        return None
    return _tidy(match.group("m") or match.group("m2") or "") or None


def _first(pattern: re.Pattern[str], text: str, group: int | str) -> str | None:
    match = pattern.search(text)
    return match.group(group).strip() if match else None


def _without(text: str, when: TimeExpr | None) -> str:
    """The text with the time expression cut out, so it does not end up in `what` or `venue`."""
    if when is None:
        return text
    start, end = when.span
    return re.sub(r"\s{2,}", " ", text[:start] + " " + text[end:]).strip()


def _tidy(value: str) -> str:
    return value.strip().strip(".,!?;:").strip()
