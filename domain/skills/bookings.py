"""Booking skills on the `booking` lane: book a table or an appointment (hold, read back, confirm),
cancel a booking, say what is booked.

A booking task runs twice. Run 1 holds the slot and returns AWAITING_CONFIRMATION with the
read-back and `result.hold_id`; the person's yes queues the task again with that result, and run 2
confirms with the venue's provider. A time that is taken is a question with alternatives
(NEEDS_INPUT, `result.ask = "start"`), never a failure; a provider that does not answer raises
ProviderUnavailable (a TransientError): the task retries and nothing is booked on a guess.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.booking_flow import (
    WITHDRAW_KIND,
    BookingDeps,
    Confirmed,
    Full,
    Held,
    Wish,
    announce,
    book_for_task,
    cancel_booking,
    find_bookings,
    withdraw_released,
)
from domain.bookings import (
    Booking,
    BookingNotices,
    BookingPolicy,
    BookingProviders,
    BookingQuery,
    BookingStatus,
    BookingStore,
    Venue,
    VenueKind,
    duration,
    find_service,
    is_open,
    what_booked,
)
from domain.conversation import read_back
from domain.intents import Intent
from domain.skills import Skill, SkillContext
from domain.slots import Slots
from domain.tasks import Lane, Outcome, RetryPolicy, Task, TaskStatus
from domain.venue_match import match_venue
from domain.wording import (
    Said,
    both_and,
    both_or,
    clock_sv,
    said,
    short_date_sv,
    short_weekday_sv,
    weekday_sv,
)

RETRY = RetryPolicy(max_attempts=8, base_seconds=5.0, cap_seconds=120.0)
"""A venue's calendar that is down gets about seven minutes to come back before the task gives up."""


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def booking_deps(ctx: SkillContext) -> BookingDeps:
    policy = ctx.ports.get(BookingPolicy)
    return BookingDeps(
        store=ctx.port(BookingStore),  # mypy#4717: a Protocol as key
        providers=ctx.port(BookingProviders),
        clock=ctx.clock or _WallClock(),
        notices=ctx.port(BookingNotices),
        policy=policy if isinstance(policy, BookingPolicy) else BookingPolicy(),
    )


def _zone(task: Task) -> str:
    return str(task.input.get("timezone") or "UTC")


# --- book ------------------------------------------------------------------------------------


async def book(task: Task, ctx: SkillContext) -> Outcome:
    """Run 1 holds and asks; run 2 (result.hold_id, or a retry after the yes) confirms."""
    deps = booking_deps(ctx)
    now, zone = deps.clock.now(), _zone(task)
    venues = await deps.store.venues(task.user_id)
    wish = _wish(task, Slots.model_validate(task.slots), venues, now)
    if isinstance(wish, Outcome):
        return wish
    confirmed = bool((task.result or {}).get("hold_id"))
    done = await book_for_task(task.id, task.user_id, wish, deps, confirmed_by_person=confirmed)
    if isinstance(done, Held):
        return _held(done, now, zone)
    if isinstance(done, Confirmed):
        return _confirmed(done, now, zone)
    return _full(done, now, zone)


def _wish(task: Task, slots: Slots, venues: list[Venue], now: datetime) -> Wish | Outcome:
    """The request resolved against a known venue, or the question that must be asked first."""
    venue = _choose_venue(task.intent, slots.venue, venues)
    if isinstance(venue, Outcome):
        return venue
    if slots.start is None:
        return Outcome.needs_input("What day and time would you like?", {"ask": "start"})
    if slots.start <= now:
        return Outcome.needs_input(
            "That time has already passed. What day and time would you like?", {"ask": "start"}
        )
    service = find_service(venue, slots.service)
    if slots.service and venue.services and service is None:
        return Outcome.needs_input(
            _services_offered(venue), {"ask": "service", "choices": list(venue.services)}
        )
    party = (slots.party_size or 1) if venue.kind is VenueKind.RESTAURANT else 1
    if party > venue.largest():
        return Outcome.needs_input(_too_many(venue), {"ask": "party_size"})
    return Wish(venue, slots.start, slots.start + duration(venue, service), party, service)


def _services_offered(venue: Venue) -> Said:
    """The question when the service named is not one the venue offers: "Bella Hair Salon offers
    a haircut (30 min) or a colour (90 min). Which would you like?" """
    offered = [
        said(f"a {name} ({minutes} min)", f"en tid för {name} ({minutes} min)")
        for name, minutes in venue.services.items()
    ]
    choices = both_or(offered)
    return said(
        f"{venue.name} offers {choices}. Which would you like?",
        f"Hos {venue.name} kan du boka {choices.sv}. Vilken vill du ha?",
    )


def _too_many(venue: Venue) -> Said:
    return said(
        f"The largest table at {venue.name} seats {venue.largest()}. For how many people?",
        f"Det största bordet på {venue.name} har plats för {venue.largest()}. Hur många blir ni?",
    )


def _choose_venue(intent: str, named: str | None, venues: list[Venue]) -> Venue | Outcome:
    """Only a venue we know, matched forgivingly; anything else is a question, never a guess."""
    match = match_venue(named, venues)
    if match.venue is not None:
        return match.venue
    if match.candidates:
        names = [v.name for v in match.candidates]
        return Outcome.needs_input(_did_you_mean(names), {"ask": "venue", "choices": names})
    restaurants = intent == Intent.BOOK_RESTAURANT
    kinds = {VenueKind.RESTAURANT} if restaurants else {VenueKind.SALON, VenueKind.CLINIC}
    names = [v.name for v in venues if v.kind in kinds] or [v.name for v in venues]
    return Outcome.needs_input(_which_venue(restaurants, names), {"ask": "venue", "choices": names})


def _did_you_mean(names: list[str]) -> Said:
    choices = both_or(names)
    return said(f"Did you mean {choices}?", f"Menade du {choices.sv}?")


def _which_venue(restaurants: bool, names: list[str]) -> Said:
    """The question for a venue we do not know, with the ones we do: "Which restaurant would you
    like? I know Luigi's Trattoria and Sakura Sushi." """
    if restaurants:
        ask = said("Which restaurant would you like?", "Vilken restaurang vill du boka?")
    else:
        ask = said("Where would you like the appointment?", "Var vill du boka tiden?")
    if not names:
        return ask
    known = both_and(names)
    return said(f"{ask} I know {known}.", f"{ask.sv} Jag kan boka hos {known.sv}.")


def _held(done: Held, now: datetime, zone: str) -> Outcome:
    b, venue = done.booking, done.venue
    return Outcome(
        TaskStatus.AWAITING_CONFIRMATION,
        reply=_read_back(b, venue, now, zone),
        result={"hold_id": str(b.id), **_facts(b, venue, zone)},
        reason="held; awaiting confirmation",
    )


def _confirmed(done: Confirmed, now: datetime, zone: str) -> Outcome:
    b, venue = done.booking, done.venue
    return Outcome.succeeded(
        reply=_booked(b, venue, now, zone), result={"booking_id": str(b.id), **_facts(b, venue, zone)}
    )


def _booked(b: Booking, venue: Venue, now: datetime, zone: str) -> Said:
    """The confirmation: "Booked: a table for 4 at Luigi's Trattoria tomorrow at 19:00. Your
    reference is LT-1234." """
    what, when = _what(b, venue), short_when(b.starts_at, now, zone)
    return said(
        f"Booked: {what} at {venue.name} {when}. Your reference is {b.ref}.",
        f"Jag har bokat {what.sv} på {venue.name} {when.sv}. Ditt bokningsnummer är {b.ref}.",
    )


def _what(b: Booking, venue: Venue) -> Said:
    """ "a table for 4" / "ett bord för 4"; "a haircut" / "en tid för haircut"."""
    if venue.kind is VenueKind.RESTAURANT:
        sv = f"ett bord för {b.party_size}"
    else:
        sv = f"en tid för {b.service}" if b.service else "en tid"
    return said(what_booked(b, venue), sv)


def _full(full: Full, now: datetime, zone: str) -> Outcome:
    venue = full.wish.venue
    result: dict[str, Any] = {
        "ask": "start",
        "alternatives": [at.astimezone(ZoneInfo(zone)).isoformat() for at in full.alternatives],
        "venue": venue.name,
        "venue_id": str(venue.id),
    }
    return Outcome.needs_input(_not_free(full, now, zone), result)


def _not_free(full: Full, now: datetime, zone: str) -> Said:
    """The time cannot be had (closed, closing too early or full), with the times that can: "Sorry,
    Bella Hair Salon is full tomorrow at 10:00. Would 09:00 or 11:00 suit you?" """
    wish, venue = full.wish, full.wish.venue
    when = short_when(wish.starts_at, now, zone)
    if not is_open(venue, wish.starts_at, wish.starts_at + timedelta(minutes=1)):
        opening = said(f"Sorry, {venue.name} is closed {when}.", f"Tyvärr har {venue.name} stängt {when.sv}.")
    elif not is_open(venue, wish.starts_at, wish.ends_at):
        opening = said(
            f"Sorry, {venue.name} closes too early for a booking {when}.",
            f"Tyvärr stänger {venue.name} för tidigt för en bokning {when.sv}.",
        )
    else:
        opening = said(
            f"Sorry, {venue.name} is full {when}.", f"Tyvärr är det fullbokat på {venue.name} {when.sv}."
        )
    if full.alternatives:
        times = both_or(_times(full.alternatives, wish.starts_at, now, zone))
        question = said(f" Would {times} suit you?", f" Skulle det passa {times.sv}?")
    else:
        question = said(" Would another day or time suit you?", " Skulle en annan dag eller tid passa?")
    return said(opening + question, opening.sv + question.sv)


def _times(alternatives: list[datetime], wanted: datetime, now: datetime, zone: str) -> list[Said]:
    """ "18:30" ("kl. 18:30"), or "Wednesday at 19:00" ("på onsdag kl. 19:00") when it is another
    day than the one asked for."""
    tz = ZoneInfo(zone)
    day = wanted.astimezone(tz).date()
    times = []
    for at in alternatives:
        local = at.astimezone(tz)
        if local.date() == day:
            times.append(said(f"{local:%H:%M}", clock_sv(local)))
        else:
            when = short_when(at, now, zone)
            times.append(said(when.removeprefix("on "), when.sv))
    return times


def _read_back(b: Booking, venue: Venue, now: datetime, zone: str) -> str:
    start = b.starts_at.astimezone(ZoneInfo(zone))
    if venue.kind is VenueKind.RESTAURANT:
        return read_back(
            Intent.BOOK_RESTAURANT, Slots(venue=venue.name, party_size=b.party_size, start=start), now, zone
        )
    return read_back(
        Intent.BOOK_APPOINTMENT, Slots(venue=venue.name, service=b.service, start=start), now, zone
    )


def _facts(b: Booking, venue: Venue, zone: str) -> dict[str, Any]:
    tz = ZoneInfo(zone)
    return {
        "ref": b.ref,
        "status": b.status.value,
        "venue": venue.name,
        "venue_id": str(venue.id),
        "start": b.starts_at.astimezone(tz).isoformat(),
        "end": b.ends_at.astimezone(tz).isoformat(),
        "party_size": b.party_size,
        "service": b.service,
    }


def short_when(at: datetime, now: datetime, zone: str) -> Said:
    """'tomorrow at 19:00', 'on Friday at 18:00', 'on Fri 4 Dec at 18:00'; in Swedish 'i morgon
    kl. 19:00', 'på fredag kl. 18:00', 'fre 4 dec kl. 18:00'."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    clock, klockan = f"at {local:%H:%M}", clock_sv(local)
    if days == 0:
        return said(f"today {clock}", f"i dag {klockan}")
    if days == 1:
        return said(f"tomorrow {clock}", f"i morgon {klockan}")
    if 1 < days < 7:
        return said(f"on {local:%A} {clock}", f"på {weekday_sv(local)} {klockan}")
    return said(
        f"on {local:%a} {local.day} {local:%b} {clock}",
        f"{short_weekday_sv(local)} {short_date_sv(local)} {klockan}",
    )


# --- cancel and status -------------------------------------------------------------------------


def _query(slots: Slots, venues: list[Venue], now: datetime, zone: str, **extra: Any) -> BookingQuery | None:
    """What the person said, as a query; None when they named a venue we do not know."""
    venue_ids: tuple[Any, ...] | None = None
    if slots.venue:
        match = match_venue(slots.venue, venues)
        found = [match.venue] if match.venue else list(match.candidates)
        if not found:
            return None
        venue_ids = tuple(v.id for v in found)
    day = None
    if slots.start is not None:
        local = slots.start.astimezone(ZoneInfo(zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = (midnight, midnight + timedelta(days=1))
    ref = slots.booking_ref.strip().upper() if slots.booking_ref else None
    return BookingQuery(ref=ref, venue_ids=venue_ids, day=day, **extra)


def _said_anything(slots: Slots) -> bool:
    return bool(slots.booking_ref or slots.venue or slots.start)


def _narrow(found: list[Booking], slots: Slots) -> list[Booking]:
    """Several that day, and a time was said: the one at that time."""
    if len(found) > 1 and slots.start is not None:
        exact = [b for b in found if b.starts_at == slots.start]
        return exact or found
    return found


async def cancel(task: Task, ctx: SkillContext) -> Outcome:
    """Cancel the booking the person means: by reference, venue or day; with nothing said, the one
    just made (undo) or their only upcoming one. Several -> asks which. A re-run finds what it did."""
    deps = booking_deps(ctx)
    now, zone = deps.clock.now(), _zone(task)
    slots = Slots.model_validate(task.slots)
    venues = {v.id: v for v in await deps.store.venues(task.user_id)}
    found = await _to_cancel(task, slots, list(venues.values()), deps)
    if not found:
        return await _nothing_to_cancel(task, slots, deps, venues, now, zone)
    if len(found) > 1:
        return _which(found, venues, now, zone, "cancel")
    booking = found[0]
    venue = venues[booking.venue_id]
    if booking.status is BookingStatus.CANCELLED:  # this task cancelled it: finish what a crash cut short
        await announce(booking, venue, deps)
    else:
        booking = await cancel_booking(booking, venue, deps, by_task=task.id)
    return Outcome.succeeded(
        reply=_cancelled(booking, venue, now, zone),
        result={"booking_id": str(booking.id), **_facts(booking, venue, zone)},
    )


def _cancelled(b: Booking, venue: Venue, now: datetime, zone: str) -> Said:
    what, when = _what(b, venue), short_when(b.starts_at, now, zone)
    return said(
        f"Cancelled: {what} at {venue.name} {when}.",
        f"Jag har avbokat {what.sv} på {venue.name} {when.sv}.",
    )


async def _to_cancel(task: Task, slots: Slots, venues: list[Venue], deps: BookingDeps) -> list[Booking]:
    now = deps.clock.now()
    if not _said_anything(slots):
        mine = await deps.store.find(task.user_id, BookingQuery(cancelled_by=task.id, after=now))
        done = [b for b in mine if b.status is BookingStatus.CANCELLED]
        if done:
            return done[:1]
        recent = await deps.store.last_confirmed(task.user_id, now - deps.policy.undo_window)
        return [recent] if recent is not None else mine
    query = _query(slots, venues, now, _zone(task), cancelled_by=task.id, after=now)
    if query is None:
        return []
    return _narrow(await find_bookings(task.user_id, query, deps), slots)


async def _nothing_to_cancel(
    task: Task, slots: Slots, deps: BookingDeps, venues: dict[Any, Venue], now: datetime, zone: str
) -> Outcome:
    upcoming = await deps.store.find(task.user_id, BookingQuery(after=now))
    if not upcoming:
        return Outcome.succeeded(reply="You have no upcoming bookings to cancel.", result={"bookings": []})
    listed = both_and([_describe(b, venues[b.venue_id], now, zone) for b in upcoming[:5]])
    question = said(
        f"I couldn't find that booking. You have {listed}. Which one should I cancel?",
        f"Jag hittade inte den bokningen. Du har {listed.sv}. Vilken ska jag avboka?",
    )
    return Outcome.needs_input(question, {"ask": "booking_ref", "choices": [b.ref for b in upcoming[:5]]})


_VERBS_SV = {"cancel": "avboka"}


def _which(found: list[Booking], venues: dict[Any, Venue], now: datetime, zone: str, verb: str) -> Outcome:
    listed = both_or([_describe(b, venues[b.venue_id], now, zone) for b in found[:5]])
    question = said(
        f"Which booking should I {verb}: {listed}?",
        f"Vilken bokning ska jag {_VERBS_SV.get(verb, verb)}: {listed.sv}?",
    )
    return Outcome.needs_input(question, {"ask": "booking_ref", "choices": [b.ref for b in found[:5]]})


def _describe(b: Booking, venue: Venue, now: datetime, zone: str) -> Said:
    """ "a table for 4 at Luigi's Trattoria tomorrow at 19:00 (reference LT-1234)"."""
    what, when = _what(b, venue), short_when(b.starts_at, now, zone)
    return said(
        f"{what} at {venue.name} {when} (reference {b.ref})",
        f"{what.sv} på {venue.name} {when.sv} (bokningsnummer {b.ref})",
    )


async def status(task: Task, ctx: SkillContext) -> Outcome:
    """What the person has booked, by reference, venue or day; with nothing said, what is coming up."""
    deps = booking_deps(ctx)
    now, zone = deps.clock.now(), _zone(task)
    slots = Slots.model_validate(task.slots)
    venues = {v.id: v for v in await deps.store.venues(task.user_id)}
    query = _query(slots, list(venues.values()), now, zone, after=None if slots.booking_ref else now)
    found = _narrow(await find_bookings(task.user_id, query, deps), slots) if query else []
    if not found:
        reply = (
            "I couldn't find a booking like that."
            if _said_anything(slots)
            else "You have no upcoming bookings."
        )
        return Outcome.succeeded(reply=reply, result={"bookings": []})
    return Outcome.succeeded(
        reply=_you_have(found, venues, now, zone),
        result={"bookings": [_facts(b, venues[b.venue_id], zone) for b in found]},
    )


def _you_have(found: list[Booking], venues: dict[Any, Venue], now: datetime, zone: str) -> Said:
    """ "You have a table for 4 at ...", or "You have 2 bookings: ... and ..."."""
    listed = both_and([_describe(b, venues[b.venue_id], now, zone) for b in found[:5]])
    if len(found) == 1:
        return said(f"You have {listed}.", f"Du har {listed.sv}.")
    return said(f"You have {len(found)} bookings: {listed}.", f"Du har {len(found)} bokningar: {listed.sv}.")


BOOK_RESTAURANT = Skill("book_restaurant", Lane.BOOKING, book, RETRY, timeout_seconds=30.0)
BOOK_APPOINTMENT = Skill("book_appointment", Lane.BOOKING, book, RETRY, timeout_seconds=30.0)
CANCEL_BOOKING = Skill("cancel_booking", Lane.BOOKING, cancel, RETRY, timeout_seconds=30.0)
BOOKING_STATUS = Skill(
    "booking_status",
    Lane.BOOKING,
    status,
    RetryPolicy(max_attempts=3, base_seconds=1.0),
    timeout_seconds=15.0,
)


async def withdraw(task: Task, ctx: SkillContext) -> Outcome:
    """A cancelled booking task's request, taken back at the venue (queued by the cancel)."""
    booking_task_id = uuid.UUID(str(task.input["booking_task_id"]))
    withdrawn = await withdraw_released(booking_task_id, booking_deps(ctx))
    return Outcome.succeeded(result={"kind": "booking_withdrawn", "withdrawn": withdrawn})


WITHDRAW = Skill(WITHDRAW_KIND, Lane.BOOKING, withdraw, RETRY, timeout_seconds=30.0)

SKILLS = [BOOK_RESTAURANT, BOOK_APPOINTMENT, CANCEL_BOOKING, BOOKING_STATUS, WITHDRAW]
ROUTES: dict[str, str] = {
    Intent.BOOK_RESTAURANT: BOOK_RESTAURANT.name,
    Intent.BOOK_APPOINTMENT: BOOK_APPOINTMENT.name,
    Intent.CANCEL_BOOKING: CANCEL_BOOKING.name,
    Intent.BOOKING_STATUS: BOOKING_STATUS.name,
}
