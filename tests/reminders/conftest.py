"""Helpers of the reminder tests: reminders stored through the real repository, a scheduler that runs
the reminder jobs, the ladder of a user, and waits on the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.ids import uuid7
from domain.recurrence import check_schedule
from domain.reminders import EscalationPolicy, EscalationStep, Reminder, ReminderStatus, StepAction
from domain.services import create_user
from providers.postgres.reminders import reminder_repository
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import Services, make_settings
from workers.scheduler import Scheduler, build_jobs

STOCKHOLM = "Europe/Stockholm"


@pytest.fixture
def settings(services: Services) -> Settings:
    """Reminders may repeat every second here: the tests use short real intervals."""
    return make_settings(services, reminder_min_interval_seconds=1)


@pytest.fixture(autouse=True)
async def _no_reminders_left(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Tests share the session's database: a reminder left active would fire in the next test."""
    yield
    if "providers" not in request.fixturenames:
        return  # a pure test: no database
    services: Services = request.getfixturevalue("services")
    conn = await asyncpg.connect(services.database_url)
    try:
        await conn.execute(
            "UPDATE reminders SET status = 'deleted', next_due_at = NULL WHERE status = 'active'"
        )
    finally:
        await conn.close()


async def make_user(providers: Providers, timezone: str = "UTC", name: str | None = None) -> uuid.UUID:
    async with providers.uow() as uow:
        user, _ = await create_user(timezone=timezone, name=name, uow=uow)
    return user.id


async def add_reminder(
    providers: Providers,
    user_id: uuid.UUID,
    *,
    first_at: datetime,
    rule: str | None = None,
    timezone: str = "UTC",
    what: str = "take my heart pills",
    medicine: str | None = "heart pills",
    dose: str | None = "2 tablets",
    next_due_at: datetime | None = None,
) -> Reminder:
    """A reminder stored as the set_reminder skill stores it, in a conversation of its own."""
    schedule = check_schedule(first_at, rule, timezone, 1)
    conversation = uuid7()
    async with providers.uow() as uow:
        await uow.conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO conversations (id, user_id) VALUES ($1, $2)", conversation, user_id
        )
        return await reminder_repository(uow).add(
            Reminder(
                id=uuid7(),
                user_id=user_id,
                conversation_id=conversation,
                what=what,
                medicine=medicine,
                dose=dose,
                schedule=schedule,
                status=ReminderStatus.ACTIVE,
                next_due_at=next_due_at or schedule.first_at,
                escalate=bool(medicine or dose),
            )
        )


async def set_ladder(
    providers: Providers, user_id: uuid.UUID, reprompt: int, family: int, missed_after: int
) -> None:
    policy = EscalationPolicy(
        (EscalationStep(reprompt, StepAction.REPROMPT), EscalationStep(family, StepAction.FAMILY)),
        missed_after,
    )
    async with providers.uow() as uow:
        await reminder_repository(uow).set_policy(user_id, policy.check())


@contextlib.asynccontextmanager
async def reminder_scheduler(providers: Providers) -> AsyncIterator[Scheduler]:
    """The scheduler with its jobs (tests.conftest.running_scheduler runs the relay only)."""
    scheduler = Scheduler(
        providers.settings, relay=providers.relay, streams=providers.streams, jobs=build_jobs(providers)
    )
    stop = asyncio.Event()
    job = asyncio.create_task(scheduler.run(stop))
    try:
        yield scheduler
    finally:
        stop.set()
        await asyncio.wait_for(job, 10)


async def rows(providers: Providers, sql: str, *args: Any) -> list[Any]:
    async with providers.pool.acquire() as conn:
        return list(await conn.fetch(sql, *args))


async def value(providers: Providers, sql: str, *args: Any) -> Any:
    async with providers.pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"{what} not reached in {timeout}s"
        await asyncio.sleep(0.05)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
