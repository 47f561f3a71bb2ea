"""Google Calendar venues, through the real client library against its own HttpMockSequence (and,
for an unreachable server, a closed port on 127.0.0.1): free/busy conflicts give alternatives, the
event id comes from the booking id so a retry never doubles it, and a calendar that does not
answer fails the booking closed."""

from __future__ import annotations

import dataclasses
import json
import socket
import uuid
from datetime import timedelta
from typing import Any

import httplib2
import pytest
from googleapiclient.http import HttpMockSequence

from domain.bookings import BookingProviders, ProviderName, ProviderUnavailable, Venue
from domain.tasks import TaskStatus
from domain.venue_admin import ResourceSpec, VenueSpec, add_venue
from providers.bookings import LocalProvider, ProviderDirectory
from providers.google_calendar import GoogleCalendarProvider
from providers.wiring import Providers
from tests.bookings.conftest import (
    ZONE,
    MovableClock,
    at,
    booking_task,
    context,
    fresh_day,
    live_bookings,
    run_skill,
    store_of,
)
from tests.conftest import running_worker
from tests.helpers import make_user, wait_for_status

CALENDAR = "clinic@example.com"
OK = {"status": "200", "content-type": "application/json"}


def freebusy(*busy: tuple[Any, Any]) -> tuple[dict[str, str], str]:
    spans = [{"start": s.isoformat(), "end": e.isoformat()} for s, e in busy]
    return OK, json.dumps({"kind": "calendar#freeBusy", "calendars": {CALENDAR: {"busy": spans}}})


def status(code: int) -> tuple[dict[str, str], str]:
    return {"status": str(code)}, json.dumps({"error": {"code": code, "message": "x"}})


def directory(http: Any) -> ProviderDirectory:
    google = GoogleCalendarProvider(lambda: http)
    return ProviderDirectory({ProviderName.LOCAL: LocalProvider(), ProviderName.GOOGLE: google})


async def _google_clinic(providers: Providers, owner: uuid.UUID) -> Venue:
    spec = VenueSpec(
        name=f"Calendar Clinic {uuid.uuid4().hex[:6]}",
        kind="clinic",
        resources=[ResourceSpec("Room A", 1, "room")],
        timezone=ZONE,
        services={"check-up": 30},
        provider="google",
        provider_config={"calendar_id": CALENDAR},
        owner_user_id=owner,
    )
    return await add_venue(spec, store=store_of(providers))


async def _task(providers: Providers, user: uuid.UUID, venue: Venue, start: Any) -> uuid.UUID:
    slots = {"venue": venue.name, "service": "check-up", "start": start.isoformat()}
    return await booking_task(providers, user, "book_appointment", slots)


async def test_a_busy_calendar_gives_alternatives(providers: Providers) -> None:
    user, day = await make_user(providers), fresh_day()
    venue = await _google_clinic(providers, user)
    busy = (at(day, "10:00"), at(day, "11:00"))  # booked by phone, on the clinic's own calendar
    http = HttpMockSequence([freebusy(busy), freebusy(busy)])
    ctx = context(providers, MovableClock(at(day, "08:00") - timedelta(days=1)), directory(http))
    asked = await run_skill(providers, await _task(providers, user, venue, at(day, "10:00")), ctx)
    assert asked.status is TaskStatus.NEEDS_INPUT
    assert asked.result is not None
    assert asked.result["alternatives"] == [at(day, "09:30").isoformat(), at(day, "11:00").isoformat()]
    body = json.loads(http.request_sequence[0][2])
    assert body["items"] == [{"id": CALENDAR}] and "freeBusy" in http.request_sequence[0][0]
    assert await live_bookings(providers, venue.id, at(day, "10:00")) == []


async def test_the_event_id_comes_from_the_booking_so_a_retry_cannot_double_it(providers: Providers) -> None:
    user, day = await make_user(providers), fresh_day()
    venue = await _google_clinic(providers, user)
    start = at(day, "14:00")
    http = HttpMockSequence(
        [freebusy(), status(404), freebusy(), (OK, json.dumps({"id": "x", "status": "confirmed"}))]
    )
    ctx = context(providers, MovableClock(start - timedelta(days=1)), directory(http))
    task_id = await _task(providers, user, venue, start)
    held = await run_skill(providers, task_id, ctx)
    assert held.status is TaskStatus.AWAITING_CONFIRMATION and held.result is not None
    done = await run_skill(providers, task_id, ctx, result=held.result)
    assert done.status is TaskStatus.SUCCEEDED, done.reply
    [row] = await live_bookings(providers, venue.id, start)
    event_id = uuid.UUID(held.result["hold_id"]).hex
    uri, method, body, _ = http.request_sequence[-1]
    assert method == "POST" and f"calendars/{CALENDAR.replace('@', '%40')}/events" in uri
    assert json.loads(body)["id"] == event_id and row["external_id"] == event_id

    # The same booking placed again (a retry after a crash) finds the event and inserts nothing.
    again = HttpMockSequence([(OK, json.dumps({"id": event_id, "status": "confirmed"}))])
    booking = await store_of(providers).for_task(task_id)
    assert booking is not None
    assert await GoogleCalendarProvider(lambda: again).place(venue, booking) == event_id
    assert [m for _, m, _, _ in again.request_sequence] == ["GET"]
    # An insert that meets its own earlier event (409) is not a second event, nor an error.
    raced = HttpMockSequence([status(404), freebusy(), status(409)])
    assert await GoogleCalendarProvider(lambda: raced).place(venue, booking) == event_id


async def test_a_calendar_that_is_down_books_nothing(providers: Providers) -> None:
    user, day = await make_user(providers), fresh_day()
    venue = await _google_clinic(providers, user)
    start = at(day, "16:00")
    clock = MovableClock(start - timedelta(days=1))
    task_id = await _task(providers, user, venue, start)
    with pytest.raises(ProviderUnavailable):
        await run_skill(
            providers, task_id, context(providers, clock, directory(HttpMockSequence([status(503)])))
        )
    assert await live_bookings(providers, venue.id, start) == []

    held = await run_skill(
        providers, task_id, context(providers, clock, directory(HttpMockSequence([freebusy()])))
    )
    assert held.status is TaskStatus.AWAITING_CONFIRMATION
    down = directory(HttpMockSequence([status(500)]))
    with pytest.raises(ProviderUnavailable):
        await run_skill(providers, task_id, context(providers, clock, down), result=held.result)
    [row] = await live_bookings(providers, venue.id, start)
    assert row["status"] == "held"  # never confirmed on a guess


async def test_an_unreachable_calendar_fails_closed_and_the_task_retries(providers: Providers) -> None:
    user, day = await make_user(providers), fresh_day()
    venue = await _google_clinic(providers, user)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    google = GoogleCalendarProvider(
        lambda: httplib2.Http(timeout=2), api_endpoint=f"http://127.0.0.1:{port}/"
    )
    ports = dict(providers.skill_ports)
    ports[BookingProviders] = ProviderDirectory({ProviderName.GOOGLE: google})
    wired = dataclasses.replace(providers, skill_ports=ports)
    task_id = await booking_task(
        providers, user, "book_appointment",
        {"venue": venue.name, "service": "check-up", "start": at(day, "11:00").isoformat()}, publish=True,
    )  # fmt: skip
    async with running_worker(wired):
        task = await wait_for_status(providers, task_id, {TaskStatus.RETRYING, TaskStatus.DEAD_LETTERED})
    assert task.status is TaskStatus.RETRYING
    assert task.error is not None and task.error["type"] == "ProviderUnavailable"
    assert await live_bookings(providers, venue.id, at(day, "11:00")) == []
    async with providers.pool.acquire() as conn:  # no later test's worker should retry it
        await conn.execute("UPDATE tasks SET status = 'cancelled' WHERE id = $1", task_id)
