"""Reminder providers for skills and the API: the repository, family alerts, the push hook, the limits.

Listed in providers.wiring.PORT_MODULES. A module listed after this one may replace a port with a
real one (the family slice's FamilyAlerts, a push service's ReminderPush): later modules win.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from domain.reminders import (
    Delivery,
    FamilyAlert,
    FamilyAlerts,
    ReminderLimits,
    ReminderPush,
    ReminderRepositories,
)
from providers.postgres.reminders import reminder_repository
from providers.settings import Settings


class PostgresFamilyAlerts:
    """The default FamilyAlerts: records the alert (idempotent on its id, one per occurrence and step)
    in `reminder_family_alerts`, from where the family slice delivers it, until it wires its own."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def escalate(self, alert: FamilyAlert) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                """INSERT INTO reminder_family_alerts (id, user_id, reminder_id, occurrence_id, step, text,
                                                       contacts)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
                alert.id,
                alert.user_id,
                alert.reminder_id,
                alert.occurrence_id,
                alert.step,
                alert.text,
                list(alert.contacts),
            )


class NoPush:
    """The default ReminderPush: nothing to push; the person's app sees each delivery as a task of
    theirs (GET /v1/tasks, or a long poll). The hook for a user webhook or a notification service."""

    async def push(self, delivery: Delivery) -> None:
        return None


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    return {
        ReminderRepositories: reminder_repository,
        FamilyAlerts: PostgresFamilyAlerts(pool),
        ReminderPush: NoPush(),
        ReminderLimits: ReminderLimits(
            min_interval_seconds=settings.reminder_min_interval_seconds,
            past_grace_seconds=settings.reminder_past_grace_seconds,
        ),
    }
