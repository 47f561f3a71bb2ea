"""Hold, read back, confirm: a booking task through the real worker and API, and its edge cases
(a conflict gives alternatives, an unknown venue a question, a re-delivered run changes nothing,
a lapsed hold is taken again or given up)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from domain.bookings import Venue
from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.bookings.conftest import (
    MovableClock,
    at,
    booking_task,
    context,
    fresh_day,
    live_bookings,
    record,
    run_skill,
)
from tests.conftest import running_worker
from tests.helpers import make_user, wait_for_status

WAITING = {TaskStatus.AWAITING_CONFIRMATION, TaskStatus.NEEDS_INPUT, TaskStatus.RETRYING}


async def _me(client: httpx.AsyncClient, auth: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])


async def test_restaurant_booking_end_to_end(
    providers: Providers, client: httpx.AsyncClient, auth: dict[str, str], venues: dict[str, Venue]
) -> None:
    start = at(fresh_day(), "19:00")
    slots = {"venue": "luigis", "party_size": 4, "start": start.isoformat()}
    task_id = await booking_task(providers, await _me(client, auth), "book_restaurant", slots, publish=True)
    async with running_worker(providers):
        held = await wait_for_status(providers, task_id, WAITING)
        assert held.status is TaskStatus.AWAITING_CONFIRMATION, held.reply
        assert (
            held.reply
            == f"Book a table for 4 at Luigi's Trattoria, on {start:%a} {start.day} {start:%b} at 19:00?"
        )
        assert held.result is not None and held.result["hold_id"]
        [row] = await live_bookings(providers, venues["luigis-trattoria"].id, start)
        assert row["status"] == "held" and str(row["id"]) == held.result["hold_id"]

        confirmed = await client.post(f"/v1/tasks/{task_id}/confirm", headers=auth)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "queued"
        done = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED, TaskStatus.NEEDS_INPUT})
    assert done.status is TaskStatus.SUCCEEDED, done.reply
    assert done.result is not None
    ref = done.result["ref"]
    when = f"on {start:%a} {start.day} {start:%b} at 19:00"
    assert done.reply == f"Booked: a table for 4 at Luigi's Trattoria {when}. Your reference is {ref}."
    assert ref.startswith("LT-") and len(ref) == 7
    [row] = await live_bookings(providers, venues["luigis-trattoria"].id, start)
    assert row["status"] == "confirmed" and row["ref"] == ref and row["party_size"] == 4
    assert row["ends_at"] - row["starts_at"] == timedelta(hours=2)


async def test_read_back_and_reply_say_tomorrow(providers: Providers, venues: dict[str, Venue]) -> None:
    start = at(fresh_day(), "19:00")
    clock = MovableClock(start - timedelta(hours=22))  # the morning before
    ctx = context(providers, clock)
    task_id = await booking_task(
        providers, await make_user(providers), "book_restaurant",
        {"venue": "Luigi's", "party_size": 4, "start": start.isoformat()},
    )  # fmt: skip
    held = await run_skill(providers, task_id, ctx)
    assert (
        held.reply
        == f"Book a table for 4 at Luigi's Trattoria, tomorrow ({start:%a} {start.day} {start:%b}) at 19:00?"
    )
    booked = await run_skill(providers, task_id, ctx, result=held.result)
    assert booked.status is TaskStatus.SUCCEEDED
    ref = booked.result["ref"]  # type: ignore[index]
    assert (
        booked.reply
        == f"Booked: a table for 4 at Luigi's Trattoria tomorrow at 19:00. Your reference is {ref}."
    )


async def test_a_full_salon_offers_the_nearest_free_times(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    day = fresh_day()
    clock = MovableClock(at(day, "07:00") - timedelta(days=1))
    ctx = context(providers, clock)
    user = await make_user(providers)
    for _ in range(2):  # both chairs, 10:00-10:45
        taken = await booking_task(
            providers, user, "book_appointment",
            {"venue": "Bella's", "service": "haircut", "start": at(day, "10:00").isoformat()},
        )  # fmt: skip
        held = await run_skill(providers, taken, ctx)
        assert held.status is TaskStatus.AWAITING_CONFIRMATION, held.reply
        assert (await run_skill(providers, taken, ctx, result=held.result)).status is TaskStatus.SUCCEEDED
    task_id = await booking_task(
        providers, await make_user(providers), "book_appointment",
        {"venue": "bella hair", "service": "Haircut", "start": at(day, "10:00").isoformat()},
    )  # fmt: skip
    asked = await run_skill(providers, task_id, ctx)
    assert asked.status is TaskStatus.NEEDS_INPUT
    assert asked.result is not None and asked.result["ask"] == "start"
    assert asked.result["alternatives"] == [at(day, "09:00").isoformat(), at(day, "11:00").isoformat()]
    assert asked.reply == "Sorry, Bella Hair Salon is full tomorrow at 10:00. Would 09:00 or 11:00 suit you?"
    assert len(await live_bookings(providers, venues["bella-hair-salon"].id, at(day, "10:00"))) == 2


async def test_unknown_venue_is_a_question_never_a_guess(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    ctx = context(providers)
    user = await make_user(providers)
    start = at(fresh_day(), "19:00").isoformat()
    for said in ("Pizza Hut", "Golden Palace", "the restaurant"):
        task_id = await booking_task(
            providers,
            user,
            "book_restaurant",
            {"venue": said, "party_size": 2, "start": start},
            publish=False,
        )
        asked = await run_skill(providers, task_id, ctx)
        assert asked.status is TaskStatus.NEEDS_INPUT
        assert asked.reply == "Which restaurant would you like? I know Golden Dragon and Luigi's Trattoria."
        assert asked.result == {"ask": "venue", "choices": ["Golden Dragon", "Luigi's Trattoria"]}
    typo = await booking_task(
        providers,
        user,
        "book_restaurant",
        {"venue": "golden dragn", "party_size": 2, "start": start},
        publish=False,
    )
    assert (await run_skill(providers, typo, ctx)).status is TaskStatus.AWAITING_CONFIRMATION


async def test_a_redelivered_run_makes_one_hold_and_one_booking(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    start = at(fresh_day(), "13:00")
    ctx = context(providers, MovableClock(start - timedelta(days=2)))
    task_id = await booking_task(
        providers, await make_user(providers), "book_appointment",
        {"venue": "Riverside Dental", "service": "checkup", "start": start.isoformat()},
    )  # fmt: skip
    first, second = await run_skill(providers, task_id, ctx), await run_skill(providers, task_id, ctx)
    assert first == second and first.result is not None and first.result["hold_id"]
    assert (
        first.reply
        == f"Book a check-up at Riverside Dental, on {start:%A} ({start.day} {start:%b}) at 13:00?"
    )
    one = await run_skill(providers, task_id, ctx, result=first.result)
    two = await run_skill(providers, task_id, ctx, result=first.result)
    assert one.status is two.status is TaskStatus.SUCCEEDED and one.result == two.result
    rows = await live_bookings(providers, venues["riverside-dental"].id, start)
    assert len(rows) == 1 and rows[0]["status"] == "confirmed"
    assert rows[0]["ends_at"] - rows[0]["starts_at"] == timedelta(minutes=30)


async def test_a_retry_after_the_yes_confirms_without_asking_again(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    """A failed confirm run leaves the task retrying with no result; the retry must still confirm."""
    start = at(fresh_day(), "20:00")
    ctx = context(providers, MovableClock(start - timedelta(days=1)))
    task_id = await booking_task(
        providers, await make_user(providers), "book_restaurant",
        {"venue": "Golden Dragon", "party_size": 6, "start": start.isoformat()},
    )  # fmt: skip
    held = await run_skill(providers, task_id, ctx)
    store = ctx.ports
    assert held.result is not None
    from domain.bookings import BookingStore

    booking_store = store[BookingStore]
    booking = await booking_store.for_task(task_id)  # type: ignore[attr-defined]
    await booking_store.mark_confirming(booking.id, ctx.clock.now(), ctx.clock.now() + timedelta(minutes=5))  # type: ignore[attr-defined, union-attr]
    retried = await run_skill(providers, task_id, ctx, result=None)
    assert retried.status is TaskStatus.SUCCEEDED, retried.reply


async def test_a_lapsed_hold_is_taken_again_if_free_else_alternatives(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    day = fresh_day()
    clock = MovableClock(at(day, "08:00") - timedelta(days=1))
    ctx = context(providers, clock)
    user = await make_user(providers)

    async def ask(hhmm: str) -> tuple[uuid.UUID, dict]:  # type: ignore[type-arg]
        task_id = await booking_task(
            providers, user, "book_appointment",
            {"venue": "Riverside", "service": "cleaning", "start": at(day, hhmm).isoformat()},
        )  # fmt: skip
        held = await run_skill(providers, task_id, ctx)
        assert held.status is TaskStatus.AWAITING_CONFIRMATION and held.result is not None
        await record(providers, task_id, held)
        return task_id, held.result

    free_task, free_result = await ask("09:00")
    clock.at += timedelta(minutes=10)  # the hold lapsed, nobody took the slot
    assert (await run_skill(providers, free_task, ctx, result=free_result)).status is TaskStatus.SUCCEEDED

    lost_task, lost_result = await ask("11:00")
    clock.at += timedelta(minutes=10)  # lapsed, and both rooms go to others meanwhile
    for _ in range(2):
        other, other_result = await ask("11:00")
        assert (await run_skill(providers, other, ctx, result=other_result)).status is TaskStatus.SUCCEEDED
    lost = await run_skill(providers, lost_task, ctx, result=lost_result)
    assert lost.status is TaskStatus.NEEDS_INPUT and lost.result is not None
    assert lost.result["alternatives"] == [at(day, "10:00").isoformat(), at(day, "12:00").isoformat()]


async def test_outside_opening_hours_offers_open_times(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    day = fresh_day()
    ctx = context(providers, MovableClock(at(day, "09:00") - timedelta(days=3)))
    user = await make_user(providers)
    early = await booking_task(
        providers,
        user,
        "book_restaurant",
        {"venue": "Golden Dragon", "party_size": 2, "start": at(day, "06:30").isoformat()},
    )
    asked = await run_skill(providers, early, ctx)
    assert asked.status is TaskStatus.NEEDS_INPUT
    assert (
        asked.reply == f"Sorry, Golden Dragon is closed on {day:%A} at 06:30. Would 08:00 or 08:30 suit you?"
    )
    late = await booking_task(
        providers,
        user,
        "book_restaurant",
        {"venue": "Golden Dragon", "party_size": 2, "start": at(day, "22:00").isoformat()},
    )
    asked = await run_skill(providers, late, ctx)
    when = f"on {day:%A} at 22:00"
    assert (
        asked.reply
        == f"Sorry, Golden Dragon closes too early for a booking {when}. Would 20:30 or 21:00 suit you?"
    )
    assert await live_bookings(providers, venues["golden-dragon"].id, at(day, "22:00")) == []
