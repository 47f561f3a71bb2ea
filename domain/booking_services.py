"""Booking use cases for the API: the person's own bookings, and cancelling a booking task so that
its held slot is free at once. Each receives its ports as keyword arguments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.booking_flow import WITHDRAW_ATTEMPTS, WITHDRAW_KIND, release_task_hold
from domain.bookings import BOOKED, Booking, BookingListing, BookingStatus, BookingStore, Venue
from domain.errors import InvalidInput, NotFound
from domain.ports import NewTask, UnitOfWork
from domain.services import cancel_task
from domain.tasks import Lane, Task
from domain.users import User

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class OwnBooking:
    """A booking with the venue it is at: what the person is shown."""

    booking: Booking
    venue: Venue


async def list_bookings(
    user: User,
    *,
    status: BookingStatus | None,
    upcoming_after: datetime | None,
    limit: int,
    cursor: uuid.UUID | None,
    store: BookingStore,
) -> tuple[list[OwnBooking], uuid.UUID | None]:
    """A page of the user's confirmed and cancelled bookings and the cursor of the next (None at the
    end). With `upcoming_after`, only those not over by then, soonest first; else latest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if status is not None and status not in BOOKED:
        raise InvalidInput("status is confirmed or cancelled: a hold is not a booking yet")
    statuses = BOOKED if status is None else (status,)
    listing = BookingListing(statuses=statuses, after=upcoming_after, limit=limit + 1, cursor=cursor)
    found = await store.page(user.id, listing)
    next_cursor = found[limit - 1].id if len(found) > limit else None
    return await _with_venues(user, found[:limit], store), next_cursor


async def get_booking(user: User, ref: str, *, store: BookingStore) -> OwnBooking:
    """The user's booking with this reference. NotFound for another user's, as for a missing one."""
    booking = await store.by_ref(user.id, ref.strip())
    found = await _with_venues(user, [booking], store) if booking is not None else []
    if not found:
        raise NotFound("no booking with this reference")
    return found[0]


async def _with_venues(user: User, bookings: list[Booking], store: BookingStore) -> list[OwnBooking]:
    """Each booking with its venue. A venue no longer offered to the user (its owner changed) is
    still where they booked: it is looked up by the booking."""
    venues = {v.id: v for v in await store.venues(user.id)} if bookings else {}
    out: list[OwnBooking] = []
    for booking in bookings:
        venue = venues.get(booking.venue_id) or await store.venue_of(booking.id)
        if venue is not None:
            out.append(OwnBooking(booking, venue))
    return out


async def cancel_task_and_release_hold(
    user: User, task_id: uuid.UUID, *, uow: UnitOfWork, store: BookingStore
) -> Task:
    """Cancel a task that has not started (Conflict once it runs or has finished); a booking task's
    held slot is given back now rather than when the hold lapses, so someone else can book it."""
    task = await cancel_task(user, task_id, uow=uow)
    if task.lane is Lane.BOOKING and await release_task_hold(task.id, store=store) is not None:
        await uow.tasks.insert(withdraw_task(task))
    return task


def withdraw_task(cancelled: Task) -> NewTask:
    """The follow-up that tells a venue a request it may have received is off. Queued in the
    cancel's transaction and published by the outbox relay, so a crash cannot lose it; retried
    while the venue is unreachable."""
    return NewTask(
        id=uuid.uuid5(cancelled.id, WITHDRAW_KIND),
        user_id=cancelled.user_id,
        conversation_id=cancelled.conversation_id,
        kind=WITHDRAW_KIND,
        lane=Lane.BOOKING,
        intent=cancelled.intent,
        slots={},
        input={"booking_task_id": str(cancelled.id)},
        parser="system",
        max_attempts=WITHDRAW_ATTEMPTS,
        idempotency_key=None,
        request_hash=None,
        reason="withdraw the request sent to the venue",
        presumed_published=False,
    )
