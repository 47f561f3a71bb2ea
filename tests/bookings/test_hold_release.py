"""A hold lasts only while the person may still say yes: cancelling the task (POST …/cancel) or
saying "no" to the read-back frees the slot at once, not when the hold lapses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from domain.bookings import Venue
from domain.skills import SkillContext
from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.bookings.conftest import (
    MovableClock,
    at,
    book,
    booking_task,
    context,
    fresh_day,
    live_bookings,
    record,
    run_skill,
)
from tests.conftest import new_user
from tests.helpers import get, make_user


async def _held_by_someone(
    providers: Providers, client: httpx.AsyncClient, ctx: SkillContext, start: datetime
) -> tuple[dict[str, str], uuid.UUID]:
    """A user (with their API headers) whose booking task holds Luigi's only table for 8 at
    `start` and awaits their yes."""
    headers = await new_user(client, timezone="Europe/Stockholm")
    user_id = uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])
    task_id = await booking_task(providers, user_id, "book_restaurant", _table_for_8(start))
    held = await run_skill(providers, task_id, ctx)
    assert held.status is TaskStatus.AWAITING_CONFIRMATION, held.reply
    await record(providers, task_id, held)
    return headers, task_id


def _table_for_8(start: datetime) -> dict[str, Any]:
    return {"venue": "Luigi's", "party_size": 8, "start": start.isoformat()}


async def _books_that_table(
    providers: Providers, ctx: SkillContext, user_id: uuid.UUID, start: datetime, luigis: Venue
) -> None:
    """The user books the very table at `start`, start to finish. The test clock has not moved, so
    a hold that was not freed would still be in force and the table would be full."""
    done = await book(providers, ctx, user_id, "book_restaurant", _table_for_8(start))
    assert done.result is not None and done.result["start"] == start.isoformat()
    [booking] = await live_bookings(providers, luigis.id, start)
    assert booking["user_id"] == user_id and booking["status"] == "confirmed"


async def test_cancelling_the_task_frees_its_held_slot_for_the_next_person(
    providers: Providers, client: httpx.AsyncClient, venues: dict[str, Venue]
) -> None:
    start = at(fresh_day(), "20:00")
    ctx = context(providers, MovableClock(start - timedelta(days=1)))
    headers, task_id = await _held_by_someone(providers, client, ctx, start)
    other = await make_user(providers)
    too_soon = await run_skill(
        providers, await booking_task(providers, other, "book_restaurant", _table_for_8(start)), ctx
    )
    assert too_soon.status is TaskStatus.NEEDS_INPUT, "the hold keeps the table while its holder decides"

    cancelled = await client.post(f"/v1/tasks/{task_id}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await live_bookings(providers, venues["luigis-trattoria"].id, start) == [], "released at once"
    await _books_that_table(providers, ctx, other, start, venues["luigis-trattoria"])


async def test_a_no_in_the_conversation_frees_the_held_slot(
    providers: Providers, client: httpx.AsyncClient, venues: dict[str, Venue]
) -> None:
    start = at(fresh_day(), "12:30")
    ctx = context(providers, MovableClock(start - timedelta(days=1)))
    headers, task_id = await _held_by_someone(providers, client, ctx, start)
    conversation_id = (await get(providers, task_id)).conversation_id

    no = await client.post(
        "/v1/messages", json={"text": "no", "conversation_id": str(conversation_id)}, headers=headers
    )
    assert no.status_code == 202, no.text
    assert no.json()["task_id"] == str(task_id) and no.json()["status"] == "cancelled"

    # Offered as an alternative at once: someone has the table until 12:30, and 12:30 is free again.
    earlier = start - timedelta(hours=2)
    await _books_that_table(providers, ctx, await make_user(providers), earlier, venues["luigis-trattoria"])
    asking = await booking_task(
        providers, await make_user(providers), "book_restaurant", _table_for_8(earlier)
    )
    full = await run_skill(providers, asking, ctx)
    assert full.status is TaskStatus.NEEDS_INPUT and full.result is not None
    assert start.isoformat() in full.result["alternatives"], full.reply

    await _books_that_table(providers, ctx, await make_user(providers), start, venues["luigis-trattoria"])
