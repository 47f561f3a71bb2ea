"""The scheduler's reminder jobs: fire due occurrences, run due escalation steps, record missed doses.

Listed in workers.scheduler.JOB_MODULES; each job runs on every scheduler pass, before the outbox
relay publishes what it inserted. A job works off what is due in batches, up to `MAX_BATCHES` a
pass so that a large backlog cannot hold the relay back for long.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from domain.reminders import FiringRules, plan_firing, plan_step
from providers.postgres.reminder_schedule import PostgresReminderScheduler
from providers.wiring import Providers
from workers.scheduler import Job

log = logging.getLogger(__name__)

MAX_BATCHES = 20


def jobs(providers: Providers) -> list[Job]:
    s = providers.settings
    store = PostgresReminderScheduler(providers.pool)
    rules = FiringRules(timedelta(seconds=s.reminder_catch_up_seconds), s.reminder_backlog_per_pass)
    plan = functools.partial(plan_firing, rules=rules)

    async def fire_due() -> int:
        async def batch() -> tuple[int, int]:
            fired = await store.fire_due(s.reminder_batch, plan)
            if fired.missed:
                log.warning("reminder occurrences recorded missed", extra={"count": fired.missed})
            if fired.fired:  # publish this batch now, not after the whole backlog (08:00 is popular)
                await providers.relay.publish_due(s.relay_batch, providers.streams.publish)
            return fired.claimed, fired.fired

        return await _drain(batch, s.reminder_batch)

    async def escalate() -> int:
        return await _drain(lambda: store.run_escalations(s.reminder_batch, plan_step), s.reminder_batch)

    async def mark_missed() -> int:
        async def batch() -> tuple[int, int]:
            return await store.mark_missed(s.reminder_batch), 0  # records only: nothing to publish

        return await _drain(batch, s.reminder_batch)

    return [fire_due, escalate, mark_missed]


async def _drain(batch: Callable[[], Awaitable[tuple[int, int]]], size: int) -> int:
    """Run batches until one claims less than `size` (or MAX_BATCHES); returns the tasks enqueued."""
    enqueued = 0
    for _ in range(MAX_BATCHES):
        claimed, created = await batch()
        enqueued += created
        if claimed < size:
            break
    return enqueued
