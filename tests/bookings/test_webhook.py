"""Webhook venues: a signed request to a real local server; the venue answers at once or later by a
signed callback; a refusal gives alternatives; a venue that is down books nothing."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest

from domain.bookings import ProviderName, ProviderUnavailable, Venue
from domain.tasks import TaskStatus
from domain.venue_admin import ResourceSpec, VenueSpec, add_venue
from providers.bookings import LocalProvider, ProviderDirectory
from providers.postgres.bookings import PostgresBookingStore
from providers.venue_webhooks import WebhookBookingProvider, signed_headers, verify
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
from tests.conftest import new_user
from tests.helpers import make_user

SECRET = "venue-secret"


class FakeVenue:
    """A venue's booking endpoint on 127.0.0.1 that answers as told and keeps what it received."""

    def __init__(self) -> None:
        self.answer: tuple[int, dict[str, Any]] = (200, {"status": "confirmed"})
        self.received: list[tuple[dict[str, str], bytes]] = []
        venue = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                venue.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code, payload = venue.answer
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bookings"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_venue() -> Iterator[FakeVenue]:
    venue = FakeVenue()
    yield venue
    venue.close()


async def _salon(providers: Providers, owner: uuid.UUID, url: str) -> Venue:
    spec = VenueSpec(
        name=f"Hook Salon {uuid.uuid4().hex[:6]}",
        kind="salon",
        resources=[ResourceSpec("Chair", 1, "chair")],
        timezone=ZONE,
        services={"haircut": 45},
        provider="webhook",
        provider_config={"url": url, "secret": SECRET},
        owner_user_id=owner,
    )
    return await add_venue(spec, store=store_of(providers))


def _directory(providers: Providers) -> ProviderDirectory:
    store = store_of(providers)
    assert isinstance(store, PostgresBookingStore)
    hook = WebhookBookingProvider(store, timeout=2.0, callback_base="http://errand.test")
    return ProviderDirectory({ProviderName.LOCAL: LocalProvider(), ProviderName.WEBHOOK: hook})


async def _held(
    providers: Providers, venue: Venue, hhmm: str, clock: MovableClock, ctx: Any
) -> tuple[uuid.UUID, Any]:
    day = clock.at.date() + timedelta(days=1)
    task_id = await booking_task(
        providers, venue.owner_user_id, "book_appointment",  # type: ignore[arg-type]
        {"venue": venue.name, "service": "haircut", "start": at(day, hhmm).isoformat()},
    )  # fmt: skip
    held = await run_skill(providers, task_id, ctx)
    assert held.status is TaskStatus.AWAITING_CONFIRMATION, held.reply
    return task_id, held.result


async def test_a_venue_that_confirms_at_once(providers: Providers, fake_venue: FakeVenue) -> None:
    venue = await _salon(providers, await make_user(providers), fake_venue.url)
    clock = MovableClock(at(fresh_day(), "09:00"))
    directory = _directory(providers)
    ctx = context(providers, clock, directory)
    task_id, result = await _held(providers, venue, "10:00", clock, ctx)
    done = await run_skill(providers, task_id, ctx, result=result)
    await directory.aclose()
    assert done.status is TaskStatus.SUCCEEDED
    [(headers, body)] = fake_venue.received
    verify(SECRET, headers, body)  # signed, Standard Webhooks style
    sent = orjson.loads(body)
    assert headers["webhook-id"] == f"{result['hold_id']}:booking.requested"
    assert sent["type"] == "booking.requested" and sent["booking"]["id"] == result["hold_id"]
    assert sent["callback_url"] == f"http://errand.test/v1/venue-callbacks/{result['hold_id']}"


async def test_a_venue_that_answers_later_by_callback(
    providers: Providers, client: httpx.AsyncClient, fake_venue: FakeVenue
) -> None:
    venue = await _salon(providers, await make_user(providers), fake_venue.url)
    clock = MovableClock(at(fresh_day(), "09:00"))
    directory = _directory(providers)
    ctx = context(providers, clock, directory)
    task_id, result = await _held(providers, venue, "11:00", clock, ctx)
    fake_venue.answer = (202, {"status": "pending"})
    with pytest.raises(ProviderUnavailable):  # the task retries until the venue has answered
        await run_skill(providers, task_id, ctx, result=result)

    path = f"/v1/venue-callbacks/{result['hold_id']}"
    body = orjson.dumps({"status": "confirmed"})
    forged = await client.post(path, content=body, headers=signed_headers("wrong", "m1", body))
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
    unknown = await client.post(
        f"/v1/venue-callbacks/{uuid.uuid4()}", content=body, headers=signed_headers(SECRET, "m1", body)
    )
    assert unknown.status_code == 404
    junk = b'{"status": "maybe"}'
    assert (
        await client.post(path, content=junk, headers=signed_headers(SECRET, "m2", junk))
    ).status_code == 422
    answered = await client.post(path, content=body, headers=signed_headers(SECRET, "m3", body))
    assert answered.status_code == 204

    done = await run_skill(providers, task_id, ctx, result=result)
    await directory.aclose()
    assert done.status is TaskStatus.SUCCEEDED
    assert len(fake_venue.received) == 1  # the retry read the answer; it did not ask again


async def test_a_venue_that_refuses_or_is_down(providers: Providers, fake_venue: FakeVenue) -> None:
    venue = await _salon(providers, await make_user(providers), fake_venue.url)
    clock = MovableClock(at(fresh_day(), "09:00"))
    directory = _directory(providers)
    ctx = context(providers, clock, directory)
    task_id, result = await _held(providers, venue, "12:00", clock, ctx)
    fake_venue.answer = (200, {"status": "refused"})
    refused = await run_skill(providers, task_id, ctx, result=result)
    assert refused.status is TaskStatus.NEEDS_INPUT and refused.result is not None
    assert refused.result["ask"] == "start" and refused.result["alternatives"]
    day = clock.at.date() + timedelta(days=1)
    assert await live_bookings(providers, venue.id, at(day, "12:00")) == []

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = await _salon(providers, venue.owner_user_id, f"http://127.0.0.1:{port}/")  # type: ignore[arg-type]
    task_id, result = await _held(providers, down, "13:00", clock, ctx)
    with pytest.raises(ProviderUnavailable):
        await run_skill(providers, task_id, ctx, result=result)
    await directory.aclose()
    [row] = await live_bookings(providers, down.id, at(day, "13:00"))
    assert row["status"] == "held"


async def test_cancelling_a_task_that_waits_for_the_venue_takes_the_request_back_there(
    providers: Providers, client: httpx.AsyncClient, fake_venue: FakeVenue
) -> None:
    """The venue was asked and has not answered (the task retries); the person cancels the task.
    The slot is freed here, and a follow-up task tells the venue the request is off, so it does not
    keep a chair for nobody. A cancel before the venue was asked sends it nothing."""
    headers = await new_user(client)
    owner = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    venue = await _salon(providers, owner, fake_venue.url)
    clock = MovableClock(at(fresh_day(), "09:00"))
    directory = _directory(providers)
    ctx = context(providers, clock, directory)
    try:
        never_asked, _ = await _held(providers, venue, "14:00", clock, ctx)
        assert (await client.post(f"/v1/tasks/{never_asked}/cancel", headers=headers)).status_code == 200
        assert await _task_kinds(providers, owner) == ["book_appointment"]  # no follow-up

        task_id, result = await _held(providers, venue, "15:00", clock, ctx)
        fake_venue.answer = (202, {"status": "pending"})
        with pytest.raises(ProviderUnavailable):
            await run_skill(providers, task_id, ctx, result=result)
        cancelled = await client.post(f"/v1/tasks/{task_id}/cancel", headers=headers)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        day = clock.at.date() + timedelta(days=1)
        assert await live_bookings(providers, venue.id, at(day, "15:00")) == []  # the slot is free

        follow_up = uuid.uuid5(task_id, "withdraw_booking")
        assert await _task_kinds(providers, owner) == [
            "book_appointment",
            "book_appointment",
            "withdraw_booking",
        ]
        done = await run_skill(providers, follow_up, ctx)
        assert done.status is TaskStatus.SUCCEEDED and done.result == {
            "kind": "booking_withdrawn",
            "withdrawn": True,
        }
    finally:
        await directory.aclose()
    requested, withdrawn = fake_venue.received
    assert orjson.loads(requested[1])["type"] == "booking.requested"
    verify(SECRET, withdrawn[0], withdrawn[1])
    sent = orjson.loads(withdrawn[1])
    assert sent["type"] == "booking.cancelled" and sent["booking"]["id"] == result["hold_id"]


async def _task_kinds(providers: Providers, user_id: uuid.UUID) -> list[str]:
    async with providers.pool.acquire() as conn:
        found = await conn.fetch("SELECT kind FROM tasks WHERE user_id = $1 ORDER BY kind", user_id)
    return [r["kind"] for r in found]
