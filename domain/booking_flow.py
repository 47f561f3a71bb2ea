"""Booking use cases: hold, confirm, cancel, find, undo. They take their ports as arguments.

Hold, read back, confirm: the first run of a booking task holds a slot for a few minutes and asks;
the run after the person's yes asks the venue's provider again and confirms. Both are idempotent
per task: the ledger allows one live booking per task, so a re-delivered run finds its own hold.
A provider that does not answer fails the run closed (ProviderUnavailable, the task retries):
nothing is booked on a guess.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.bookings import (
    Booking,
    BookingNotices,
    BookingPolicy,
    BookingProviders,
    BookingQuery,
    BookingStatus,
    BookingStore,
    HoldRequest,
    ProviderName,
    SlotTaken,
    Venue,
    blocked_resources,
    candidate_starts,
    family_notice,
    is_open,
    later_days,
    pick_alternatives,
)
from domain.ports import Clock
from domain.timeexpr import resolve

LAPSED = frozenset({BookingStatus.HELD, BookingStatus.EXPIRED})
"""A hold, in force or lapsed: a confirming one of these means the person already said yes."""


@dataclass(frozen=True, slots=True)
class BookingDeps:
    store: BookingStore
    providers: BookingProviders
    clock: Clock
    notices: BookingNotices
    """The family, told of every booking confirmed or cancelled (if they agreed to hear of them)."""
    policy: BookingPolicy = field(default_factory=BookingPolicy)


@dataclass(frozen=True, slots=True)
class Wish:
    """What the person asked for, resolved against one venue."""

    venue: Venue
    starts_at: datetime
    ends_at: datetime
    party_size: int
    service: str | None

    @property
    def length(self) -> timedelta:
        return self.ends_at - self.starts_at


@dataclass(frozen=True, slots=True)
class Held:
    booking: Booking
    venue: Venue


@dataclass(frozen=True, slots=True)
class Confirmed:
    booking: Booking
    venue: Venue


@dataclass(frozen=True, slots=True)
class Full:
    """The time asked for cannot be had; these can (nearest first on the day, else later days)."""

    wish: Wish
    alternatives: list[datetime]


async def hold_for_task(
    task_id: uuid.UUID, user_id: uuid.UUID, wish: Wish, deps: BookingDeps, *, confirming: bool = False
) -> Held | Full:
    """The task's hold (the one it has, or a new one), or the alternatives when the time is taken.
    Raises ProviderUnavailable when the venue's calendar cannot be asked."""
    if not is_open(wish.venue, wish.starts_at, wish.ends_at):
        return Full(wish, await alternatives(wish, deps))
    now = deps.clock.now()
    provider = deps.providers.for_venue(wish.venue)
    busy = await provider.busy(wish.venue, wish.starts_at, wish.ends_at)
    request = HoldRequest(
        task_id=task_id,
        user_id=user_id,
        venue=wish.venue,
        starts_at=wish.starts_at,
        ends_at=wish.ends_at,
        party_size=wish.party_size,
        service=wish.service,
        now=now,
        expires_at=now + deps.policy.hold,
        blocked=blocked_resources(busy, wish.starts_at, wish.ends_at),
        confirming=confirming,
    )
    booking = await deps.store.hold(request)
    if booking is None:
        return Full(wish, await alternatives(wish, deps))
    return Held(booking, wish.venue)


async def alternatives(wish: Wish, deps: BookingDeps) -> list[datetime]:
    """Free times near the one asked for: the same day first, else the same time on later days."""
    earliest = deps.clock.now() + deps.policy.lead
    for candidates in (
        candidate_starts(wish.venue, wish.starts_at, wish.length, earliest),
        later_days(wish.venue, wish.starts_at, wish.length),
    ):
        free = await _free_among(wish, candidates, deps)
        if free:
            return pick_alternatives(wish.starts_at, free)
    return []


async def _free_among(wish: Wish, candidates: list[datetime], deps: BookingDeps) -> list[datetime]:
    if not candidates:
        return []
    slots = [(at, at + wish.length) for at in candidates]
    free = await deps.store.free_resources(wish.venue, wish.party_size, slots, deps.clock.now())
    provider = deps.providers.for_venue(wish.venue)
    busy = await provider.busy(wish.venue, min(candidates), max(candidates) + wish.length)
    return [
        start
        for (start, end), ids in zip(slots, free, strict=True)
        if ids - blocked_resources(busy, start, end)
    ]


async def book_for_task(
    task_id: uuid.UUID, user_id: uuid.UUID, wish: Wish, deps: BookingDeps, *, confirmed_by_person: bool
) -> Held | Confirmed | Full:
    """One run of a booking task: hold and ask, or (after the person's yes, also on a retry that
    lost the task's result) confirm. A confirmed booking is announced to the family on every run
    that finds it, so a crash between confirming and announcing is made good by the retry."""
    booking = await deps.store.for_task(task_id)
    done: Held | Confirmed | Full
    if booking is not None and booking.status is BookingStatus.CONFIRMED:
        done = Confirmed(booking, wish.venue)
    elif confirmed_by_person or (booking is not None and booking.confirming and booking.status in LAPSED):
        done = await confirm_for_task(task_id, user_id, wish, deps)
    else:
        return await hold_for_task(task_id, user_id, wish, deps)
    if isinstance(done, Confirmed):
        await announce(done.booking, done.venue, deps)
    return done


async def confirm_for_task(
    task_id: uuid.UUID, user_id: uuid.UUID, wish: Wish, deps: BookingDeps
) -> Confirmed | Full:
    """The person said yes: keep (or take again) the hold, ask the venue's side, confirm.

    An expired hold is taken again if the slot is still free; a slot gone meanwhile, here or at the
    venue, gives alternatives. Raises ProviderUnavailable when the venue's side cannot be asked.
    """
    held = await _keep_hold(task_id, user_id, wish, deps)
    if isinstance(held, Full):
        return held
    provider = deps.providers.for_venue(wish.venue)
    try:
        external_id = await provider.place(wish.venue, held)
    except SlotTaken:
        await deps.store.release(held.id, BookingStatus.RELEASED)
        return Full(wish, await alternatives(wish, deps))
    confirmed = await deps.store.confirm(held.id, deps.clock.now(), external_id)
    if confirmed is None:  # the hold was lost after all: take back what the venue was given
        await provider.withdraw(wish.venue, held)
        return Full(wish, await alternatives(wish, deps))
    return Confirmed(confirmed, wish.venue)


async def _keep_hold(task_id: uuid.UUID, user_id: uuid.UUID, wish: Wish, deps: BookingDeps) -> Booking | Full:
    """The task's hold, extended so it cannot lapse while the venue is asked; taken again if lost."""
    now = deps.clock.now()
    booking = await deps.store.for_task(task_id)
    if booking is not None and booking.status is BookingStatus.HELD:
        kept = await deps.store.mark_confirming(booking.id, now, now + deps.policy.hold)
        if kept is not None:
            return kept
    if booking is not None and booking.status in LAPSED:
        if booking.confirming:  # an earlier try may have reached the venue before the hold lapsed
            await deps.providers.for_venue(wish.venue).withdraw(wish.venue, booking)
        await deps.store.release(booking.id, BookingStatus.EXPIRED)
    again = await hold_for_task(task_id, user_id, wish, deps, confirming=True)
    return again.booking if isinstance(again, Held) else again


async def cancel_booking(
    booking: Booking, venue: Venue, deps: BookingDeps, *, by_task: uuid.UUID | None
) -> Booking:
    """Take the booking off the venue's side first, then out of the ledger, then tell the family:
    a failure in between leaves it live here and the retry finishes the job. Raises
    ProviderUnavailable."""
    await deps.providers.for_venue(venue).withdraw(venue, booking)
    cancelled = await deps.store.cancel(booking.id, by_task, deps.clock.now())
    if cancelled is None:
        return booking
    await announce(cancelled, venue, deps)
    return cancelled


async def announce(booking: Booking, venue: Venue, deps: BookingDeps) -> None:
    """Tell the consenting family that the booking was confirmed or cancelled; nothing for other
    statuses. Safe to repeat: the notice's id derives from the booking and what happened to it."""
    notice = family_notice(booking, venue)
    if notice is not None:
        await deps.notices.tell_family(notice)


WITHDRAW_KIND = "withdraw_booking"
WITHDRAW_ATTEMPTS = 8


async def release_task_hold(task_id: uuid.UUID, *, store: BookingStore) -> Booking | None:
    """The person said no to the read-back (or cancelled the task): free the slot now rather than
    when the hold lapses. A confirmed booking is left alone (that is a cancellation).

    Returns the released hold when an earlier try may already have reached the venue's own system
    (it was being confirmed at a webhook or calendar venue, say while the task waited for the
    venue's answer): the venue must then be told too (`withdraw_released`), or it keeps a table
    for nobody."""
    booking = await store.for_task(task_id)
    if booking is None or booking.status is not BookingStatus.HELD:
        return None
    await store.release(booking.id, BookingStatus.RELEASED)
    if not booking.confirming:
        return None
    venue = await store.venue_of(booking.id)
    return booking if venue is not None and venue.provider is not ProviderName.LOCAL else None


async def withdraw_released(booking_task_id: uuid.UUID, deps: BookingDeps) -> bool:
    """Tell the venue's side that a released hold of this task is off. False when there is nothing
    to withdraw (the booking was confirmed after all, or is gone). Raises ProviderUnavailable."""
    booking = await deps.store.for_task(booking_task_id)
    if booking is None or booking.status is not BookingStatus.RELEASED:
        return False
    venue = await deps.store.venue_of(booking.id)
    if venue is None:
        return False
    await deps.providers.for_venue(venue).withdraw(venue, booking)
    return True


async def find_bookings(user_id: uuid.UUID, query: BookingQuery, deps: BookingDeps) -> list[Booking]:
    return await deps.store.find(user_id, query)


async def undo_last_booking(
    user_id: uuid.UUID, *, within: timedelta = timedelta(minutes=5), deps: BookingDeps
) -> Booking | None:
    """ "Undo" / "cancel that": cancels the booking the user confirmed in the last `within`, if any.
    Returns it cancelled, or None when nothing was booked that recently."""
    since = deps.clock.now() - within
    booking = await deps.store.last_confirmed(user_id, since)
    if booking is None:
        return None
    venues = {v.id: v for v in await deps.store.venues(user_id)}
    venue = venues.get(booking.venue_id)
    if venue is None:
        return None
    return await cancel_booking(booking, venue, deps, by_task=None)


_ORDINALS = {"first": 0, "1st": 0, "earlier": 0, "earliest": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
_LAST = ("last", "later", "latest")


def choose_alternative(text: str, offered: list[datetime], now: datetime, timezone: str) -> datetime | None:
    """Which of the offered times a reply picks: "18:30", "8 pm", "the first one", "the later one".
    None when it picks none of them (the conversation layer then treats it as a new answer).

    For the conversation layer: a NEEDS_INPUT booking task whose result has `ask == "start"` and
    `alternatives` (ISO 8601 strings) can take the chosen time as its new `start` and be queued again.
    """
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    for word, index in _ORDINALS.items():
        if word in words and index < len(offered):
            return sorted(offered)[index]
    if words & set(_LAST) and offered:
        return max(offered)
    when = resolve(text, now, timezone)
    if when is None or when.start is None or when.date_only:
        return None
    exact = [at for at in offered if at == when.start]
    zone = ZoneInfo(timezone)
    same_clock = [at for at in offered if at.astimezone(zone).time() == when.start.astimezone(zone).time()]
    picked = exact or same_clock
    return picked[0] if len(picked) == 1 else None
