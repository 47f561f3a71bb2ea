"""Fixtures of the bookings tests: the demo venues seeded, a day of their own per test, a clock the
test moves, booking tasks inserted as the API would, and a direct way to run a skill."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.bookings import BookingProviders, BookingStore, Venue
from domain.ids import uuid7
from domain.ports import Doorbell, NewTask
from domain.skills import SkillContext
from domain.tasks import Outcome, TaskStatus
from domain.venue_admin import seed_demo_venues
from providers.wiring import Providers
from tests.helpers import get

ZONE = "Europe/Stockholm"
_DAYS = itertools.count(30)


def fresh_day() -> date:
    """A day no other test books: each call is one more day ahead."""
    return datetime.now(UTC).date() + timedelta(days=next(_DAYS))


def at(day: date, hhmm: str, zone: str = ZONE) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ZoneInfo(zone))


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def store_of(providers: Providers) -> BookingStore:
    return providers.skill_ports[BookingStore]  # type: ignore[type-abstract,return-value]


@pytest.fixture
async def venues(providers: Providers) -> dict[str, Venue]:
    seeded = await seed_demo_venues(ZONE, store=store_of(providers))
    return {v.slug: v for v in seeded}


async def booking_task(
    providers: Providers,
    user_id: uuid.UUID,
    kind: str,
    slots: dict[str, Any],
    *,
    publish: bool = False,
) -> uuid.UUID:
    """A booking task as the conversation layer queues it once every slot is there. Unpublished
    ones are for running the skill directly: they wait as `needs_input`, so no worker of another
    test ever claims them."""
    skill = providers.registry.get(kind)
    assert skill is not None
    new = NewTask(
        id=uuid7(),
        user_id=user_id,
        conversation_id=uuid7(),
        kind=kind,
        lane=skill.lane,
        intent=kind,
        slots=slots,
        input={"text": "(test)", "timezone": ZONE},
        parser="test",
        max_attempts=skill.retry.max_attempts,
        idempotency_key=None,
        request_hash=None,
        presumed_published=publish,
        status=TaskStatus.QUEUED if publish else TaskStatus.NEEDS_INPUT,
    )
    async with providers.uow() as uow:
        task = await uow.tasks.insert(new)
    assert task is not None
    if publish:
        assert await providers.streams.publish([Doorbell(task.id, task.lane, task.kind)])
    return task.id


def context(
    providers: Providers, clock: Any = None, booking_providers: BookingProviders | None = None
) -> SkillContext:
    ports = dict(providers.skill_ports)
    if booking_providers is not None:
        ports[BookingProviders] = booking_providers
    return SkillContext(worker="test", uow=providers.uow, clock=clock or providers.clock, ports=ports)


async def run_skill(
    providers: Providers, task_id: uuid.UUID, ctx: SkillContext, result: Any = ...
) -> Outcome:
    """Run the task's skill once, as a worker would (the task as stored, or with another result)."""
    task = await get(providers, task_id)
    if result is not ...:
        task = dataclasses.replace(task, result=result)
    skill = providers.registry.get(task.kind)
    assert skill is not None
    return await skill.handler(task, ctx)


async def record(providers: Providers, task_id: uuid.UUID, outcome: Outcome) -> None:
    """Store an outcome's status, reply and result on the task, as the worker's commit would."""
    async with providers.pool.acquire() as conn:
        await conn.execute(
            "UPDATE tasks SET status = $2, reply = $3, result = $4 WHERE id = $1",
            task_id,
            outcome.status.value,
            outcome.reply,
            outcome.result,
        )


async def live_bookings(providers: Providers, venue_id: uuid.UUID, start: datetime) -> list[dict[str, Any]]:
    async with providers.pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT * FROM bookings
               WHERE venue_id = $1 AND starts_at = $2 AND status IN ('held', 'confirmed')""",
            venue_id,
            start,
        )
    return [dict(r) for r in rows]


async def book(
    providers: Providers, ctx: SkillContext, user: uuid.UUID, kind: str, slots: dict[str, Any]
) -> Outcome:
    """Hold, then confirm: a booking made start to finish by running the skill twice."""
    task_id = await booking_task(providers, user, kind, slots)
    held = await run_skill(providers, task_id, ctx)
    assert held.status.value == "awaiting_confirmation", held.reply
    done = await run_skill(providers, task_id, ctx, result=held.result)
    assert done.status.value == "succeeded", done.reply
    return done
