"""Finding, cancelling and undoing one's own bookings."""

from __future__ import annotations

from datetime import timedelta

from domain.booking_flow import release_task_hold, undo_last_booking
from domain.bookings import Venue
from domain.conversation import read_back
from domain.intents import Intent
from domain.skills.bookings import booking_deps
from domain.slot_extraction import extract_slots
from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.bookings.conftest import (
    ZONE,
    MovableClock,
    at,
    book,
    booking_task,
    context,
    fresh_day,
    live_bookings,
    run_skill,
)
from tests.helpers import make_user


async def test_status_and_cancel_by_reference_venue_and_day(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    first_day, second_day = fresh_day(), fresh_day()
    clock = MovableClock(at(first_day, "09:00") - timedelta(days=1))
    ctx = context(providers, clock)
    user = await make_user(providers)
    luigis = await book(
        providers, ctx, user, "book_restaurant",
        {"venue": "Luigi's", "party_size": 2, "start": at(first_day, "19:00").isoformat()},
    )  # fmt: skip
    dragon = await book(
        providers, ctx, user, "book_restaurant",
        {"venue": "Golden Dragon", "party_size": 3, "start": at(second_day, "18:00").isoformat()},
    )  # fmt: skip
    assert luigis.result is not None and dragon.result is not None
    clock.at += timedelta(hours=1)  # past the undo window

    everything = await run_skill(providers, await booking_task(providers, user, "booking_status", {}), ctx)
    assert everything.status is TaskStatus.SUCCEEDED
    assert everything.reply is not None and everything.reply.startswith(
        "You have 2 bookings: a table for 2 at"
    )
    assert [b["ref"] for b in everything.result["bookings"]] == [luigis.result["ref"], dragon.result["ref"]]  # type: ignore[index]
    by_ref = await run_skill(
        providers,
        await booking_task(providers, user, "booking_status", {"booking_ref": dragon.result["ref"].lower()}),
        ctx,
    )
    ref = dragon.result["ref"]
    assert (
        by_ref.reply
        == f"You have a table for 3 at Golden Dragon on {second_day:%A} at 18:00 (reference {ref})."
    )

    which = await run_skill(providers, await booking_task(providers, user, "cancel_booking", {}), ctx)
    assert which.status is TaskStatus.NEEDS_INPUT and which.reply is not None
    assert which.reply.startswith("Which booking should I cancel:")
    assert which.result == {"ask": "booking_ref", "choices": [luigis.result["ref"], dragon.result["ref"]]}

    cancel_task = await booking_task(
        providers,
        user,
        "cancel_booking",
        {"venue": "golden dragon", "start": at(second_day, "00:00").isoformat()},
    )
    cancelled = await run_skill(providers, cancel_task, ctx)
    assert cancelled.reply == f"Cancelled: a table for 3 at Golden Dragon on {second_day:%A} at 18:00."
    assert await run_skill(providers, cancel_task, ctx) == cancelled  # a re-run finds what it did
    assert await live_bookings(providers, venues["golden-dragon"].id, at(second_day, "18:00")) == []

    nothing = await run_skill(
        providers, await booking_task(providers, user, "cancel_booking", {"booking_ref": "GD-ZZZZ"}), ctx
    )
    assert nothing.status is TaskStatus.NEEDS_INPUT and nothing.reply is not None
    assert nothing.reply.startswith(
        "I couldn't find that booking. You have a table for 2 at Luigi's Trattoria"
    )

    stranger = await make_user(providers)
    theirs = await run_skill(
        providers,
        await booking_task(providers, stranger, "booking_status", {"booking_ref": luigis.result["ref"]}),
        ctx,
    )
    assert theirs.reply == "I couldn't find a booking like that."


async def test_cancel_that_undoes_the_booking_just_made(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    day = fresh_day()
    clock = MovableClock(at(day, "09:00") - timedelta(days=3))
    ctx = context(providers, clock)
    user = await make_user(providers)
    await book(
        providers,
        ctx,
        user,
        "book_restaurant",
        {"venue": "Luigi's", "party_size": 2, "start": at(day, "12:00").isoformat()},
    )
    clock.at += timedelta(minutes=1)
    await book(
        providers,
        ctx,
        user,
        "book_restaurant",
        {"venue": "Luigi's", "party_size": 2, "start": at(day, "20:00").isoformat()},
    )
    clock.at += timedelta(minutes=2)
    undone = await run_skill(providers, await booking_task(providers, user, "cancel_booking", {}), ctx)
    assert undone.status is TaskStatus.SUCCEEDED
    assert undone.reply == f"Cancelled: a table for 2 at Luigi's Trattoria on {day:%A} at 20:00."
    assert len(await live_bookings(providers, venues["luigis-trattoria"].id, at(day, "12:00"))) == 1


async def test_undo_last_booking_only_within_the_window(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    day = fresh_day()
    clock = MovableClock(at(day, "09:00") - timedelta(days=1))
    ctx = context(providers, clock)
    user = await make_user(providers)
    deps = booking_deps(ctx)
    assert await undo_last_booking(user, deps=deps) is None
    made = await book(
        providers, ctx, user, "book_appointment", {"venue": "Bella's", "start": at(day, "15:00").isoformat()}
    )
    clock.at += timedelta(minutes=6)
    assert await undo_last_booking(user, within=timedelta(minutes=5), deps=deps) is None
    undone = await undo_last_booking(user, within=timedelta(minutes=10), deps=deps)
    assert undone is not None and undone.ref == made.result["ref"] and undone.status.value == "cancelled"  # type: ignore[index]
    assert await undo_last_booking(user, within=timedelta(minutes=10), deps=deps) is None


async def test_a_no_to_the_read_back_frees_the_slot_at_once(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    start = at(fresh_day(), "21:00")
    ctx = context(providers, MovableClock(start - timedelta(days=1)))
    task_id = await booking_task(
        providers,
        await make_user(providers),
        "book_restaurant",
        {"venue": "Luigi's", "party_size": 8, "start": start.isoformat()},
    )
    held = await run_skill(providers, task_id, ctx)
    assert held.status is TaskStatus.AWAITING_CONFIRMATION
    await release_task_hold(task_id, store=booking_deps(ctx).store)
    assert await live_bookings(providers, venues["luigis-trattoria"].id, start) == []


async def test_a_day_said_without_a_time_finds_that_days_booking(
    providers: Providers, venues: dict[str, Venue]
) -> None:
    """ "scrap my booking on Friday 4 December": the day is enough to know which one, so the local
    parser gives the whole day (start and end at its midnights) and the read-back says no hour."""
    first_day, second_day = fresh_day(), fresh_day()
    clock = MovableClock(at(first_day, "09:00") - timedelta(days=1))
    ctx = context(providers, clock)
    user = await make_user(providers)
    for day, venue in ((first_day, "Luigi's"), (second_day, "Golden Dragon")):
        made = await book(
            providers, ctx, user, "book_restaurant",
            {"venue": venue, "party_size": 2, "start": at(day, "19:00").isoformat()},
        )  # fmt: skip
        assert made.status is TaskStatus.SUCCEEDED
    clock.at += timedelta(hours=1)  # past the undo window
    text = f"please scrap my booking on {second_day:%A} {second_day.day} {second_day:%B}"
    slots = extract_slots(Intent.CANCEL_BOOKING, text, clock.now(), ZONE)
    assert (slots.start, slots.end) == (at(second_day, "00:00"), at(second_day, "00:00") + timedelta(days=1))
    said = read_back(Intent.CANCEL_BOOKING, slots, clock.now(), ZONE)
    assert f"{second_day.day} {second_day:%b}" in said and "00:00" not in said
    task = await booking_task(
        providers, user, "cancel_booking", slots.model_dump(mode="json", exclude_none=True)
    )
    cancelled = await run_skill(providers, task, ctx)
    assert cancelled.reply is not None and cancelled.reply.startswith(
        "Cancelled: a table for 2 at Golden Dragon"
    )
    assert await live_bookings(providers, venues["golden-dragon"].id, at(second_day, "19:00")) == []
    assert len(await live_bookings(providers, venues["luigis-trattoria"].id, at(first_day, "19:00"))) == 1
