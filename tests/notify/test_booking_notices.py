"""The bookings slice's BookingNotices over webhooks: a booking confirmed, and then cancelled, reaches
the family who agreed to hear about bookings, once each, however often the booking tasks run."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from domain.tasks import TaskStatus
from domain.venue_admin import seed_demo_venues
from providers.wiring import Providers
from tests.bookings.conftest import (
    ZONE,
    MovableClock,
    at,
    book,
    booking_task,
    context,
    fresh_day,
    run_skill,
    store_of,
)
from tests.conftest import running_scheduler, running_worker
from tests.notify.helpers import add_contact, finished
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.usefixtures("remove_notify_tasks")


async def _notifications(providers: Providers, user_id: uuid.UUID) -> list[uuid.UUID]:
    async with providers.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id FROM tasks WHERE kind = 'notify_contact' AND user_id = $1 ORDER BY created_at", user_id
        )
    return [r["id"] for r in rows]


async def test_family_hears_of_a_booking_confirmed_and_cancelled_once_each(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    await seed_demo_venues(ZONE, store=store_of(providers))
    user_id = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    day = fresh_day()
    ctx = context(providers, MovableClock(at(day, "09:00") - timedelta(days=1)))
    slots = {"venue": "Luigi's", "party_size": 4, "start": at(day, "19:00").isoformat()}
    async with Receiver() as anna_hook, Receiver() as tom_hook:
        anna = await add_contact(client, auth, anna_hook.url, consents=("bookings",))
        await add_contact(client, auth, tom_hook.url, name="Tom", relation="son", consents=("messages",))
        anna_hook.secrets = [anna["secret"]]
        async with running_worker(providers), running_scheduler(providers):
            booked = await book(providers, ctx, user_id, "book_restaurant", slots)
            assert booked.result is not None
            ref = booked.result["ref"]
            await anna_hook.wait_for(1)

            cancelling = await booking_task(providers, user_id, "cancel_booking", {"booking_ref": ref})
            cancelled = await run_skill(providers, cancelling, ctx)
            assert cancelled.status is TaskStatus.SUCCEEDED, cancelled.reply
            assert await run_skill(providers, cancelling, ctx) == cancelled  # a re-run tells nobody again
            await anna_hook.wait_for(2)
            sent = await _notifications(providers, user_id)
            for task_id in sent:
                await finished(providers, task_id, TaskStatus.SUCCEEDED)

    when = f"{day:%a} {day.day} {day:%b} at 19:00"
    texts = [r.payload["data"]["text"] for r in anna_hook.delivered()]
    assert texts == [
        f"Booking confirmed: a table for 4 at Luigi's Trattoria on {when} (reference {ref}).",
        f"Booking cancelled: a table for 4 at Luigi's Trattoria on {when} (reference {ref}).",
    ]
    assert {r.payload["type"] for r in anna_hook.delivered()} == {"booking.notice"}
    assert {r.payload["data"]["topic"] for r in anna_hook.delivered()} == {"bookings"}
    # The same booking as fields, for a family's system that should not have to read the text.
    details = [r.payload["data"]["details"] for r in anna_hook.delivered()]
    assert [d["event"] for d in details] == ["booking.confirmed", "booking.cancelled"]
    for d in details:
        assert (d["booking_ref"], d["venue"], d["party_size"]) == (ref, "Luigi's Trattoria", 4)
        assert datetime.fromisoformat(d["starts_at"]) == at(day, "19:00")
        assert datetime.fromisoformat(d["ends_at"]) > datetime.fromisoformat(d["starts_at"])
    assert tom_hook.requests == [], "Tom agreed to messages only"
    assert len(sent) == 2, "one notification per (booking event, consenting contact)"
    assert len({r.webhook_id for r in anna_hook.requests}) == 2


async def test_a_retried_confirmation_does_not_tell_the_family_twice(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    await seed_demo_venues(ZONE, store=store_of(providers))
    user_id = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    async with Receiver() as anna_hook:
        await add_contact(client, auth, anna_hook.url, consents=("bookings",))
        day = fresh_day()
        ctx = context(providers, MovableClock(at(day, "09:00") - timedelta(days=1)))
        slots = {"venue": "Bella's", "service": "trim", "start": at(day, "10:00").isoformat()}
        task_id = await booking_task(providers, user_id, "book_appointment", slots)
        held = await run_skill(providers, task_id, ctx)
        assert await _notifications(providers, user_id) == [], "a hold is not news for the family"
        first = await run_skill(providers, task_id, ctx, result=held.result)
        again = await run_skill(providers, task_id, ctx, result=held.result)  # a lost outcome, redone
    assert first.status is again.status is TaskStatus.SUCCEEDED
    assert first.result == again.result
    assert len(await _notifications(providers, user_id)) == 1
