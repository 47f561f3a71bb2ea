"""Reminder providers for skills and the API: the repository, family alerts, the push to the person's
app, the limits.

Listed in providers.wiring.PORT_MODULES. A module listed after this one may replace a port with
another (the family slice's FamilyAlerts does): later modules win.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from domain.reminders import (
    FamilyAlert,
    FamilyAlerts,
    ReminderLimits,
    ReminderPush,
    ReminderRepositories,
)
from providers.app_push import WebhookReminderPush
from providers.postgres.contacts import PostgresContactsUnitOfWorkFactory
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


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    return {
        ReminderRepositories: reminder_repository,
        FamilyAlerts: PostgresFamilyAlerts(pool),
        ReminderPush: WebhookReminderPush(PostgresContactsUnitOfWorkFactory(pool)),
        ReminderLimits: ReminderLimits(
            min_interval_seconds=settings.reminder_min_interval_seconds,
            past_grace_seconds=settings.reminder_past_grace_seconds,
        ),
    }
