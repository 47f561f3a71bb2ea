"""Other slices' family notifications over family webhooks: the reminders slice's escalations
(FamilyAlerts) and the bookings slice's confirmations and cancellations (BookingNotices) become
signed webhooks to each contact who agreed to that topic.

It comes after "providers.reminders" in providers.wiring.PORT_MODULES (later modules win), so it
takes the place of the reminders slice's placeholder that only records the alert.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from domain.bookings import BookingNotice, BookingNotices
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
                details={
                    "reminder_id": str(alert.reminder_id),
                    "occurrence_id": str(alert.occurrence_id),
                    "step": alert.step,
                },
            )


class WebhookBookingNotices:
    """Idempotent on `notice.id`, and published by the outbox relay, for the same reasons as
    WebhookFamilyAlerts."""

    def __init__(self, uow: ContactsUnitOfWorkFactory) -> None:
        self._uow = uow

    async def tell_family(self, notice: BookingNotice) -> None:
        async with self._uow() as uow:
            await notify_contacts(
                notice.user_id,
                "bookings",
                notice.text,
                source_id=notice.id,
                uow=uow,
                queue=None,
                details=notice.details,
            )


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    contacts = PostgresContactsUnitOfWorkFactory(pool)
    alerts: FamilyAlerts = WebhookFamilyAlerts(contacts)
    notices: BookingNotices = WebhookBookingNotices(contacts)
    return {FamilyAlerts: alerts, BookingNotices: notices}
