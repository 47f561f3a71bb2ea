"""The reminders slice's FamilyAlerts port over family webhooks: an escalation becomes a signed
webhook to each contact who agreed to escalations.

To wire it, list this module in providers.wiring.PORT_MODULES after "providers.reminders" (later
modules win), in place of the reminders slice's placeholder that only records the alert.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from domain.notify import notify_contacts
from domain.notify_ports import ContactsUnitOfWorkFactory
from domain.reminders import FamilyAlert, FamilyAlerts
from providers.postgres.contacts import PostgresContactsUnitOfWorkFactory
from providers.settings import Settings


class WebhookFamilyAlerts:
    """Idempotent on `alert.id` (the notification tasks derive from it). The tasks are left to the
    outbox relay to publish, so this holds no broker client and is correct inside any transaction."""

    def __init__(self, uow: ContactsUnitOfWorkFactory) -> None:
        self._uow = uow

    async def escalate(self, alert: FamilyAlert) -> None:
        async with self._uow() as uow:
            await notify_contacts(
                alert.user_id,
                "escalations",
                alert.text,
                source_id=alert.id,
                uow=uow,
                queue=None,
                only=alert.contacts,
            )


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    alerts: FamilyAlerts = WebhookFamilyAlerts(PostgresContactsUnitOfWorkFactory(pool))
    return {FamilyAlerts: alerts}
