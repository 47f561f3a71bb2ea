"""Google Calendar as a venue's booking provider (google-api-python-client).

Free/busy tells which times the venue's calendars have taken; a confirmed booking becomes an event
whose id is derived from the booking id, so a retry finds the event the first try made instead of
making a second. The client library is synchronous: calls run in a thread, each with its own
`httplib2.Http` (those are not thread-safe). Vendor errors are translated here: unreachable or
5xx/429 -> ProviderUnavailable (the booking fails closed and the task retries).
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httplib2  # type: ignore[import-untyped,unused-ignore]
from googleapiclient.discovery import build  # type: ignore[import-untyped,unused-ignore]
from googleapiclient.errors import HttpError  # type: ignore[import-untyped,unused-ignore]

from domain.bookings import Booking, Interval, ProviderUnavailable, SlotTaken, Venue
from domain.errors import PermanentError

SCOPES = ["https://www.googleapis.com/auth/calendar"]
_UNREACHABLE = (httplib2.HttpLib2Error, OSError, socket.timeout, TimeoutError)

HttpFactory = Callable[[], httplib2.Http]


def event_id_for(booking: Booking) -> str:
    """Google event ids are base32hex (0-9, a-v), 5-1024 characters: a uuid's hex is one."""
    return booking.id.hex


class GoogleCalendarProvider:
    """BookingProvider for venues with `provider_config.calendar_id` (or per-resource calendar ids)."""

    def __init__(self, http: HttpFactory, *, api_endpoint: str | None = None) -> None:
        """`http` makes one authorized `httplib2.Http` per call; `api_endpoint` points the client at
        another server (a local fake in tests)."""
        self._http = http
        options = {"api_endpoint": api_endpoint} if api_endpoint else None
        self._service: Any = build(
            "calendar",
            "v3",
            http=http(),
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )

    @classmethod
    def from_service_account(cls, credentials_file: Path, *, timeout: float) -> GoogleCalendarProvider:
        from google.oauth2 import service_account
        from google_auth_httplib2 import AuthorizedHttp  # type: ignore[import-untyped,unused-ignore]

        load = service_account.Credentials.from_service_account_file
        credentials = load(str(credentials_file), scopes=SCOPES)  # type: ignore[no-untyped-call,unused-ignore]
        return cls(lambda: AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout)))

    async def busy(self, venue: Venue, start: datetime, end: datetime) -> dict[uuid.UUID, list[Interval]]:
        calendars = _calendars(venue)
        body = {
            "timeMin": start.isoformat(),
            "timeMax": end.isoformat(),
            "items": [{"id": cal} for cal in calendars],
        }
        answer = await self._call(self._service.freebusy().query(body=body))
        taken: dict[uuid.UUID, list[Interval]] = {}
        for cal, resource_ids in calendars.items():
            spans = _busy_spans(answer, cal)
            for rid in resource_ids:
                taken.setdefault(rid, []).extend(spans)
        return {rid: spans for rid, spans in taken.items() if spans}

    async def place(self, venue: Venue, booking: Booking) -> str | None:
        cal, event_id = _calendar_of(venue, booking.resource_id), event_id_for(booking)
        existing = await self._event(cal, event_id)
        if existing is not None and existing.get("status") != "cancelled":
            return event_id  # an earlier try placed it
        busy = await self.busy(venue, booking.starts_at, booking.ends_at)
        if busy.get(booking.resource_id):
            raise SlotTaken(f"{venue.name}'s calendar has that time taken")
        if existing is not None:  # ours, deleted earlier: Google keeps the id, so bring it back
            request = self._service.events().patch(
                calendarId=cal, eventId=event_id, body={"status": "confirmed"}
            )
            await self._call(request)
            return event_id
        await self._insert(cal, _event_body(venue, booking, event_id))
        return event_id

    async def withdraw(self, venue: Venue, booking: Booking) -> None:
        cal, event_id = _calendar_of(venue, booking.resource_id), event_id_for(booking)
        try:
            await self._call(
                self._service.events().delete(calendarId=cal, eventId=event_id, sendUpdates="none")
            )
        except _Gone:
            return

    async def _event(self, cal: str, event_id: str) -> dict[str, Any] | None:
        try:
            event: dict[str, Any] = await self._call(
                self._service.events().get(calendarId=cal, eventId=event_id)
            )
        except _Gone:
            return None
        return event

    async def _insert(self, cal: str, body: dict[str, Any]) -> None:
        try:
            await self._call(self._service.events().insert(calendarId=cal, body=body, sendUpdates="none"))
        except _Duplicate:
            return  # a concurrent or earlier try inserted this very id

    async def _call(self, request: Any) -> Any:
        return await asyncio.to_thread(_execute, request, self._http())


class _Gone(ProviderUnavailable):
    """404 or 410: the event is not there (unexpected anywhere else: then the calendar is amiss)."""


class _Duplicate(ProviderUnavailable):
    """409: an event with this id exists."""


def _execute(request: Any, http: httplib2.Http) -> Any:
    try:
        return request.execute(http=http, num_retries=0)
    except HttpError as exc:
        raise _translate(exc) from exc
    except _UNREACHABLE as exc:
        raise ProviderUnavailable(f"Google Calendar unreachable: {type(exc).__name__}") from exc


def _translate(exc: HttpError) -> Exception:
    status = int(exc.resp.status)
    if status in (404, 410):
        return _Gone(f"Google Calendar answered {status}")
    if status == 409:
        return _Duplicate("Google Calendar answered 409")
    if status == 400:
        return PermanentError(f"Google Calendar refused the request: {exc.reason}")
    return ProviderUnavailable(f"Google Calendar answered {status}")


def _calendars(venue: Venue) -> dict[str, list[uuid.UUID]]:
    """Calendar id -> the resources it speaks for (a resource's own calendar, else the venue's)."""
    out: dict[str, list[uuid.UUID]] = {}
    for resource in venue.resources:
        out.setdefault(_calendar_of(venue, resource.id), []).append(resource.id)
    return out


def _calendar_of(venue: Venue, resource_id: uuid.UUID) -> str:
    own = next((r.calendar_id for r in venue.resources if r.id == resource_id), None)
    cal = own or venue.provider_config.get("calendar_id")
    if not cal:
        raise PermanentError(f"{venue.name} has no Google calendar id configured")
    return cal


def _busy_spans(answer: dict[str, Any], cal: str) -> list[Interval]:
    """A calendar free/busy could not read is treated as unreachable: never as free."""
    entry = answer.get("calendars", {}).get(cal)
    if entry is None or entry.get("errors"):
        raise ProviderUnavailable(f"Google Calendar could not tell whether {cal} is free")
    return [
        (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"])) for b in entry.get("busy", [])
    ]


def _event_body(venue: Venue, booking: Booking, event_id: str) -> dict[str, Any]:
    what = f"{booking.service} " if booking.service else ""
    return {
        "id": event_id,
        "summary": f"{what}booking {booking.ref} ({booking.party_size} ppl)".strip().capitalize(),
        "description": f"Booked through Errand. Reference {booking.ref}.",
        "start": {"dateTime": booking.starts_at.isoformat(), "timeZone": venue.timezone},
        "end": {"dateTime": booking.ends_at.isoformat(), "timeZone": venue.timezone},
        "extendedProperties": {"private": {"errand_booking_id": str(booking.id), "errand_ref": booking.ref}},
    }
