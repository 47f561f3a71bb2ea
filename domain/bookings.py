"""Bookings: venues as data, the booking ledger and the providers that take bookings, as pure models,
rules and Protocols.

The ledger (PostgreSQL) is the one place where a table, chair or room is taken: its exclusion
constraint makes a double booking impossible. A venue's provider (its own calendar, its webhook)
is asked on top of it, never instead of it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.errors import DomainError, InvalidInput, TransientError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[datetime, datetime]
"""A half-open time range [start, end), both ends aware."""


class VenueKind(StrEnum):
    RESTAURANT = "restaurant"
    SALON = "salon"
    CLINIC = "clinic"


class ProviderName(StrEnum):
    LOCAL = "local"
    """Availability from opening hours, resources and the ledger alone."""
    GOOGLE = "google"
    """The venue's Google Calendar: free/busy for conflicts, an event per booking."""
    WEBHOOK = "webhook"
    """A signed request to the venue's URL; the venue answers at once or by callback."""


class BookingStatus(StrEnum):
    HELD = "held"
    """Taken for a few minutes while the person confirms; blocks the slot like a booking."""
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    """A hold nobody confirmed in time (or that was lost to a conflict at the venue)."""
    RELEASED = "released"
    """A hold given up because the request changed or the venue refused it."""


LIVE = frozenset({BookingStatus.HELD, BookingStatus.CONFIRMED})
"""Statuses that take the slot: the exclusion constraint covers exactly these."""

BOOKED = (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)
"""What the person sees of their bookings: a hold is still a question, and expired and released
rows were never bookings."""


@dataclass(frozen=True, slots=True)
class Resource:
    """One bookable thing: a table (capacity = seats), a chair, a room."""

    id: uuid.UUID
    name: str
    kind: str
    """`table`, `chair`, `room`: used in replies ("a table for 4")."""
    capacity: int = 1
    calendar_id: str | None = None
    """The provider's calendar for this resource; falls back to the venue's."""


@dataclass(frozen=True, slots=True)
class Venue:
    id: uuid.UUID
    slug: str
    """Stable key (from the name) that makes seeding and the admin API idempotent."""
    name: str
    kind: VenueKind
    timezone: str
    hours: Mapping[int, tuple[tuple[time, time], ...]]
    """Opening windows per weekday (0 = Monday), in the venue's time zone; a window whose close
    is not after its open runs past midnight."""
    resources: tuple[Resource, ...]
    aliases: tuple[str, ...] = ()
    services: Mapping[str, int] = field(default_factory=dict)
    """Service name -> minutes ("check-up" -> 30)."""
    default_minutes: int = 60
    """Length of a booking that names no service (a table: 120)."""
    slot_minutes: int = 30
    """Granularity of the times offered as alternatives."""
    provider: ProviderName = ProviderName.LOCAL
    provider_config: Mapping[str, str] = field(default_factory=dict)
    """`calendar_id` for google; `url` and `secret` for webhook."""
    owner_user_id: uuid.UUID | None = None
    """None: every user may book it; else only that user sees it."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def largest(self) -> int:
        return max((r.capacity for r in self.resources), default=0)


@dataclass(frozen=True, slots=True)
class Booking:
    id: uuid.UUID
    ref: str
    """What the person is told and may quote back ("LT-4F2K"); unique."""
    user_id: uuid.UUID
    task_id: uuid.UUID
    """The task that made it: at most one live booking per task, enforced in SQL."""
    venue_id: uuid.UUID
    resource_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    party_size: int
    service: str | None
    status: BookingStatus
    hold_expires_at: datetime | None = None
    confirming: bool = False
    """The person said yes: a retry of the task confirms instead of asking again."""
    external_id: str | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None

    def held_at(self, now: datetime) -> bool:
        """A hold still in force at `now`."""
        return self.status is BookingStatus.HELD and (
            self.hold_expires_at is None or self.hold_expires_at > now
        )


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """Take the best-fitting free resource for the task, or nothing."""

    task_id: uuid.UUID
    user_id: uuid.UUID
    venue: Venue
    starts_at: datetime
    ends_at: datetime
    party_size: int
    service: str | None
    now: datetime
    expires_at: datetime
    blocked: frozenset[uuid.UUID] = frozenset()
    """Resources the venue's own calendar has taken then."""
    confirming: bool = False


@dataclass(frozen=True, slots=True)
class BookingQuery:
    """What a person said to find their booking: any of a reference, a venue, a day."""

    ref: str | None = None
    venue_ids: tuple[uuid.UUID, ...] | None = None
    day: tuple[datetime, datetime] | None = None
    after: datetime | None = None
    """Only bookings that end after this (upcoming ones)."""
    cancelled_by: uuid.UUID | None = None
    """Also bookings this task cancelled, so a re-run of a cancellation finds what it did."""


@dataclass(frozen=True, slots=True)
class BookingListing:
    """Which of a person's bookings to show, a page at a time."""

    statuses: tuple[BookingStatus, ...] = BOOKED
    after: datetime | None = None
    """Only bookings that end after this (upcoming ones); they come soonest first. Without it the
    latest start comes first, as a history reads."""
    limit: int = 50
    cursor: uuid.UUID | None = None
    """The last booking of the previous page."""


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    hold: timedelta = timedelta(minutes=5)
    """How long a hold waits for the person's yes."""
    undo_window: timedelta = timedelta(minutes=5)
    lead: timedelta = timedelta(minutes=0)
    """Nothing can be booked to start sooner than this from now."""


class SlotTaken(DomainError):
    """The slot went to someone else, or the venue's calendar refused it."""

    title = "Slot taken"


class ProviderUnavailable(TransientError):
    """The venue's provider did not answer: nothing is booked on a guess; the task retries."""

    title = "Booking provider unavailable"
    reply = "I couldn't confirm the booking yet; I'll try again and tell you."


class BookingStore(Protocol):
    """Venues and the ledger. Every write is keyed so a re-run of the same task changes nothing."""

    async def venues(self, user_id: uuid.UUID | None) -> list[Venue]:
        """Venues the user may book (public ones and their own); None: all of them."""
        ...

    async def add_venue(self, venue: Venue) -> Venue:
        """Raises Conflict when a venue with this slug exists."""
        ...

    async def upsert_venue(self, venue: Venue) -> Venue:
        """Insert or update by slug; resources are added or updated by name, never deleted."""
        ...

    async def hold(self, request: HoldRequest) -> Booking | None:
        """The task's live booking if it has one, else a new hold on the smallest free resource that
        fits, else None (the slot is taken). Stale holds in the way are expired first."""
        ...

    async def free_resources(
        self, venue: Venue, party_size: int, slots: Sequence[Interval], now: datetime
    ) -> list[frozenset[uuid.UUID]]:
        """For each slot, the fitting resources nobody holds or booked then."""
        ...

    async def for_task(self, task_id: uuid.UUID) -> Booking | None:
        """The task's latest booking, whatever its status."""
        ...

    async def mark_confirming(self, booking_id: uuid.UUID, now: datetime, until: datetime) -> Booking | None:
        """Record the person's yes and extend a hold in force at `now` to `until`; None when it lapsed."""
        ...

    async def confirm(self, booking_id: uuid.UUID, now: datetime, external_id: str | None) -> Booking | None:
        """held -> confirmed; the booking as it is when already confirmed; None when the hold is lost."""
        ...

    async def release(self, booking_id: uuid.UUID, status: BookingStatus) -> None:
        """A hold (in force or lapsed) that will not be confirmed: its slot is free again, and it no
        longer counts as confirming."""
        ...

    async def cancel(self, booking_id: uuid.UUID, by_task: uuid.UUID | None, now: datetime) -> Booking | None:
        """A live booking -> cancelled; the booking as it is when already cancelled; None if absent."""
        ...

    async def find(self, user_id: uuid.UUID, query: BookingQuery) -> list[Booking]:
        """The user's confirmed bookings matching every given criterion, soonest first."""
        ...

    async def page(self, user_id: uuid.UUID, listing: BookingListing) -> list[Booking]:
        """The user's bookings in `listing`'s order, after its cursor, at most `limit` of them."""
        ...

    async def by_ref(self, user_id: uuid.UUID, ref: str) -> Booking | None:
        """The user's confirmed or cancelled booking with this reference (any case); None for
        another user's, as for a missing one."""
        ...

    async def last_confirmed(self, user_id: uuid.UUID, since: datetime) -> Booking | None:
        """The user's booking confirmed most recently, if at or after `since` and still confirmed."""
        ...

    async def venue_of(self, booking_id: uuid.UUID) -> Venue | None: ...

    async def set_venue_answer(self, booking_id: uuid.UUID, answer: str) -> bool:
        """Record a webhook venue's answer; False when there is no such booking."""
        ...


class BookingProvider(Protocol):
    """The venue's side of a booking. Errors: ProviderUnavailable when unreachable (fail closed),
    SlotTaken when the venue's calendar has the time taken or it refuses."""

    async def busy(self, venue: Venue, start: datetime, end: datetime) -> dict[uuid.UUID, list[Interval]]:
        """Times the venue's own calendar has taken between start and end, per resource."""
        ...

    async def place(self, venue: Venue, booking: Booking) -> str | None:
        """Check the time again on the venue's side and put the booking there; idempotent by the
        booking id (a retry finds what the first try placed). Returns the venue's id for it."""
        ...

    async def withdraw(self, venue: Venue, booking: Booking) -> None:
        """Remove the booking from the venue's side; nothing to remove is not an error."""
        ...


class BookingProviders(Protocol):
    def for_venue(self, venue: Venue) -> BookingProvider: ...


@dataclass(frozen=True, slots=True)
class BookingNotice:
    """What the person's family is told about one booking: once per booking and what happened."""

    id: uuid.UUID
    """Derived from the booking and the event, so telling again (a re-run) tells nobody twice."""
    user_id: uuid.UUID
    booking_id: uuid.UUID
    event: BookingStatus
    """CONFIRMED or CANCELLED."""
    text: str
    details: Mapping[str, Any] = field(default_factory=dict)
    """The booking as fields (reference, venue, start with its offset, party or service), so that a
    family's system need not read the text."""


class BookingNotices(Protocol):
    """The family notifications lane, as the bookings slice sees it."""

    async def tell_family(self, notice: BookingNotice) -> None:
        """Queue a signed webhook to each of the user's contacts who agreed to hear about bookings.
        Idempotent on `notice.id`; commits on its own, so the family hears of it even if the task's
        own outcome is lost and the task runs again."""
        ...


# --- opening hours ---------------------------------------------------------------------------


def parse_hours(spec: Mapping[str, Sequence[Sequence[str]]]) -> dict[int, tuple[tuple[time, time], ...]]:
    """{"mon": [["08:00", "23:00"]], ...} -> windows by weekday. InvalidInput on a bad day or time."""
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for day, windows in spec.items():
        if day not in WEEKDAYS:
            raise InvalidInput(f"unknown weekday {day!r}: use one of {', '.join(WEEKDAYS)}")
        hours[WEEKDAYS.index(day)] = tuple(_window(w) for w in windows)
    return hours


def _window(window: Sequence[str]) -> tuple[time, time]:
    try:
        opens, closes = (time.fromisoformat(part) for part in window)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"opening hours must be pairs like ['08:00', '23:00'], not {window!r}") from exc
    return opens, closes


def format_hours(hours: Mapping[int, tuple[tuple[time, time], ...]]) -> dict[str, list[list[str]]]:
    return {
        WEEKDAYS[day]: [[o.strftime("%H:%M"), c.strftime("%H:%M")] for o, c in windows]
        for day, windows in sorted(hours.items())
    }


EVERY_DAY_8_TO_23 = {day: ((time(8), time(23)),) for day in range(7)}


def windows_on(venue: Venue, day: date) -> list[Interval]:
    """The venue's opening windows that start on `day` (venue-local), as aware datetimes."""
    zone = venue.zone
    out: list[Interval] = []
    for opens, closes in venue.hours.get(day.weekday(), ()):
        start = datetime.combine(day, opens, tzinfo=zone)
        end_day = day if closes > opens else day + timedelta(days=1)
        out.append((start, datetime.combine(end_day, closes, tzinfo=zone)))
    return out


def is_open(venue: Venue, start: datetime, end: datetime) -> bool:
    """The whole of [start, end) lies in one opening window (yesterday's may run past midnight)."""
    local = start.astimezone(venue.zone).date()
    windows = windows_on(venue, local - timedelta(days=1)) + windows_on(venue, local)
    return any(opens <= start and end <= closes for opens, closes in windows)


# --- what is asked for -----------------------------------------------------------------------


def normalize_name(text: str) -> str:
    """Lower case, plain apostrophes, no punctuation or articles: how names are compared."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"'s\b", "s", text)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(w for w in text.split() if w not in ("the", "a", "an"))


def find_service(venue: Venue, said: str | None) -> str | None:
    """The venue's own name for the service said ("checkup" -> "check-up"); None if it has none."""
    if said is None:
        return None
    wanted = normalize_name(said).replace(" ", "")
    for name in venue.services:
        if normalize_name(name).replace(" ", "") == wanted:
            return name
    return None


def duration(venue: Venue, service: str | None) -> timedelta:
    minutes = venue.services.get(service, venue.default_minutes) if service else venue.default_minutes
    return timedelta(minutes=minutes)


def fitting(venue: Venue, party_size: int) -> list[Resource]:
    """Resources that seat the party, smallest first: a couple does not take the table for eight."""
    return sorted(
        (r for r in venue.resources if r.capacity >= party_size), key=lambda r: (r.capacity, r.name)
    )


def what_booked(booking: Booking, venue: Venue) -> str:
    """'a table for 4', 'a check-up', 'an appointment': a booking as the person would say it."""
    if venue.kind is VenueKind.RESTAURANT:
        return f"a table for {booking.party_size}"
    return f"a {booking.service}" if booking.service else "an appointment"


_FAMILY_OPENING = {BookingStatus.CONFIRMED: "Booking confirmed", BookingStatus.CANCELLED: "Booking cancelled"}


def family_notice(booking: Booking, venue: Venue) -> BookingNotice | None:
    """What the family hears of a confirmed or cancelled booking (None for a hold and the like).

    The time is the venue's, with the date: the family reads it later and maybe elsewhere, where
    "tomorrow" or the person's zone would mislead.
    """
    opening = _FAMILY_OPENING.get(booking.status)
    if opening is None:
        return None
    local = booking.starts_at.astimezone(venue.zone)
    text = (
        f"{opening}: {what_booked(booking, venue)} at {venue.name} on {local:%a} {local.day} {local:%b} "
        f"at {local:%H:%M} (reference {booking.ref})."
    )
    notice_id = uuid.uuid5(booking.id, f"family:{booking.status.value}")
    details: dict[str, Any] = {
        "event": f"booking.{booking.status.value}",
        "booking_ref": booking.ref,
        "venue": venue.name,
        "starts_at": local.isoformat(),
        "ends_at": booking.ends_at.astimezone(venue.zone).isoformat(),
    }
    if venue.kind is VenueKind.RESTAURANT:
        details["party_size"] = booking.party_size
    elif booking.service:
        details["service"] = booking.service
    return BookingNotice(notice_id, booking.user_id, booking.id, booking.status, text, details)


def blocked_resources(
    busy: Mapping[uuid.UUID, Sequence[Interval]], start: datetime, end: datetime
) -> frozenset[uuid.UUID]:
    return frozenset(rid for rid, spans in busy.items() if any(s < end and start < e for s, e in spans))


# --- alternatives ------------------------------------------------------------------------------


def candidate_starts(
    venue: Venue, wanted: datetime, length: timedelta, now: datetime, limit: int = 16
) -> list[datetime]:
    """Other starts on the same local day, on the venue's grid, nearest first, open for the whole
    booking and not in the past."""
    day = wanted.astimezone(venue.zone).date()
    step = timedelta(minutes=venue.slot_minutes)
    found: set[datetime] = set()
    for opens, closes in windows_on(venue, day):
        at = opens
        while at + length <= closes:
            if at != wanted and at >= now:
                found.add(at)
            at += step
    return sorted(found, key=lambda at: (abs(at - wanted), at))[:limit]


def later_days(venue: Venue, wanted: datetime, length: timedelta, days: int = 6) -> list[datetime]:
    """The same local time on the following days, where the venue is open then."""
    local = wanted.astimezone(venue.zone)
    out: list[datetime] = []
    for n in range(1, days + 1):
        at = datetime.combine(local.date() + timedelta(days=n), local.time(), tzinfo=venue.zone)
        if is_open(venue, at, at + length):
            out.append(at)
    return out


def pick_alternatives(wanted: datetime, free: Sequence[datetime], count: int = 2) -> list[datetime]:
    """The nearest free time before and the nearest after ("18:30 or 20:00"), else the nearest two."""
    earlier = [at for at in free if at < wanted]
    later = [at for at in free if at > wanted]
    picked = ([max(earlier)] if earlier else []) + ([min(later)] if later else [])
    for at in sorted(free, key=lambda at: abs(at - wanted)):
        if len(picked) >= count:
            break
        if at not in picked:
            picked.append(at)
    return sorted(picked[:count])


# --- identifiers -------------------------------------------------------------------------------

_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a reference is read out over the phone."""


def ref_prefix(name: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z]+", re.sub(r"['\u2019]s\b", "", name)) if w]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    return (words[0][:2] if words else "BK").upper()


def booking_ref(venue_name: str, booking_id: uuid.UUID) -> str:
    """'LT-4F2K': the venue's initials and four characters drawn from the booking id."""
    number = int.from_bytes(hashlib.sha256(booking_id.bytes).digest()[:8], "big")
    chars = []
    for _ in range(4):
        number, index = divmod(number, len(_REF_ALPHABET))
        chars.append(_REF_ALPHABET[index])
    return f"{ref_prefix(venue_name)}-{''.join(chars)}"


_NAMESPACE = uuid.UUID("5b0c0e1e-7a2b-4c55-9d0e-2f1c8a6b9e31")


def venue_id_for(slug: str) -> uuid.UUID:
    """Deterministic, so seeding twice (or on two machines) names the same venue."""
    return uuid.uuid5(_NAMESPACE, f"venue:{slug}")


def resource_id_for(venue_id: uuid.UUID, name: str) -> uuid.UUID:
    return uuid.uuid5(venue_id, f"resource:{name.lower()}")


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", normalize_name(name)).strip("-")
    if not slug:
        raise InvalidInput("a venue needs a name with letters or digits")
    return slug
