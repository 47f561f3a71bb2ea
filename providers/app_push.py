"""The reminders slice's ReminderPush over the person's own app webhook (domain.app_webhooks).

Wired by providers.reminders.build. A push becomes a `notify_app` task, delivered by the notify
lane like the family's webhooks; a person without a webhook gets nothing pushed (their app polls).
"""

from __future__ import annotations

from domain.app_webhooks import push_to_app, reminder_notice
from domain.notify_ports import ContactsUnitOfWorkFactory
from domain.reminders import Delivery


class WebhookReminderPush:
    """Idempotent on `delivery.id` (the push task's id derives from it). The task is left to the
    outbox relay to publish, so this holds no broker client and is correct inside any transaction."""

    def __init__(self, uow: ContactsUnitOfWorkFactory) -> None:
        self._uow = uow

    async def push(self, delivery: Delivery) -> None:
        async with self._uow() as uow:
            await push_to_app(delivery.user_id, reminder_notice(delivery), uow=uow, queue=None)
