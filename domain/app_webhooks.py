"""The person's own app webhook: where their reminders are pushed, so that an app need not poll.

It is one more endpoint of the family's webhook machinery (domain.notify): the same Standard
Webhooks signing, secrets with rotation, destination checks, retry schedule, delivery log and
never-twice claim. A push is a task of the `notify` lane with an id derived from the event it
reports, so asking twice (a re-run reminder delivery) queues it once, and its delivery id (the
`webhook-id`) derives from that task, so a retry or a duplicate run never sends it twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from domain.contact_book import RotatedSecret
from domain.errors import Conflict, InvalidInput, NotFound, PermanentError
from domain.ids import uuid7
from domain.intents import Intent
from domain.notify import (
    NOTIFY_LANE,
    DeliveryPorts,
    Endpoint,
    claim_delivery,
    endpoint_deliveries,
    enqueue_notifications,
    replay_endpoint_delivery,
    send_claimed,
)
from domain.notify_ports import (
    AppWebhook,
    ContactsUnitOfWork,
    Delivery,
    DestinationGuard,
    NewDelivery,
)
from domain.ports import Clock, NewTask, TaskQueue
from domain.reminders import Delivery as ReminderDelivery
from domain.reminders import ack_path
from domain.services import DeadLetterQueue
from domain.tasks import Outcome, Task
from domain.users import User
from domain.webhooks import (
    DELIVERY_RETRY,
    AttemptResult,
    app_delivery_id,
    app_push_task_id,
    envelope,
    new_secret,
    notification_conversation_id,
    valid_secret,
)

APP_PUSH_KIND = "notify_app"
APP_EVENT_TYPES = frozenset({"reminder.due", "reminder.reprompt", "reminder.escalated"})
"""What the person's app may be sent: an occurrence falling due, a re-prompt for one not
acknowledged yet, and the news that their family was told of a missed one (so it is never a
surprise to them)."""


@dataclass(frozen=True, slots=True)
class AppNotice:
    """One event for the person's app: ids and words, nothing the app could not read by polling."""

    type: str
    data: Mapping[str, Any]
    source_id: uuid.UUID
    """The event reported (a reminder delivery task): its push is queued once, whoever asks."""


@dataclass(frozen=True, slots=True)
class AppWebhookSet:
    webhook: AppWebhook
    secret: str | None
    """The signing secret when this call created the webhook (shown this once); None when it only
    changed the URL (the secret stays; rotate it to get a new one)."""


# Registering it ------------------------------------------------------------------------------


async def set_app_webhook(
    user: User,
    url: str,
    secret: str | None,
    *,
    uow: ContactsUnitOfWork,
    guard: DestinationGuard,
    clock: Clock,
) -> AppWebhookSet:
    """Create the person's app webhook, or point the existing one at a new URL (its secret and log
    stay). InvalidInput for a URL webhooks may not reach (checked like a contact's) or a bad
    secret, and for a secret sent to an existing webhook (secrets change by rotation only);
    Conflict when two first registrations race."""
    if secret is not None:
        valid_secret(secret)
    url = url.strip()
    await guard.check(url)
    if await uow.app_webhooks.get(user.id) is not None:
        if secret is not None:
            raise InvalidInput("the webhook exists: change its secret with POST /v1/me/webhook/rotate-secret")
        updated = await uow.app_webhooks.set_url(user.id, url)
        if updated is None:
            raise Conflict("the webhook was removed meanwhile; try again")
        return AppWebhookSet(updated, None)
    key = secret or new_secret()
    now = clock.now()
    stored = await uow.app_webhooks.add(AppWebhook(uuid7(), user.id, url, now, now), key)
    if stored is None:
        raise Conflict("the webhook was registered by another request at the same time")
    return AppWebhookSet(stored, key)


async def get_app_webhook(user: User, *, uow: ContactsUnitOfWork) -> AppWebhook:
    """NotFound when the person has none."""
    webhook = await uow.app_webhooks.get(user.id)
    if webhook is None:
        raise NotFound("no webhook is registered")
    return webhook


async def delete_app_webhook(user: User, *, uow: ContactsUnitOfWork) -> None:
    """Removes it with its secret and delivery log; pushes still queued end without being sent."""
    if not await uow.app_webhooks.delete(user.id):
        raise NotFound("no webhook is registered")


async def rotate_app_secret(user: User, *, uow: ContactsUnitOfWork, grace_seconds: float) -> RotatedSecret:
    """As for a contact: a new secret, returned once; the old one also signs for `grace_seconds`."""
    secret = new_secret()
    until = await uow.app_webhooks.rotate_secret(user.id, secret, grace_seconds)
    if until is None:
        raise NotFound("no webhook is registered")
    return RotatedSecret(secret, until)


async def list_app_deliveries(
    user: User, *, limit: int, cursor: uuid.UUID | None, uow: ContactsUnitOfWork
) -> tuple[list[Delivery], uuid.UUID | None]:
    """A page of the deliveries to the person's app, newest first, with every attempt."""
    webhook = await get_app_webhook(user, uow=uow)
    return await endpoint_deliveries(webhook.id, limit=limit, cursor=cursor, uow=uow)


async def replay_app_delivery(
    user: User,
    delivery_id: uuid.UUID,
    *,
    uow: ContactsUnitOfWork,
    queue: TaskQueue,
    dlq: DeadLetterQueue,
) -> Delivery:
    """Send a dead push again, with fresh attempts; Conflict when it succeeded or still retries."""
    webhook = await get_app_webhook(user, uow=uow)
    return await replay_endpoint_delivery(webhook.id, delivery_id, uow=uow, queue=queue, dlq=dlq)


# Pushing -------------------------------------------------------------------------------------


def reminder_notice(delivery: ReminderDelivery) -> AppNotice:
    """A reminder occurrence (or a re-prompt) as the app receives it: the words the person sees, and
    the ids to show the task (GET /v1/tasks/{task_id}) and to acknowledge the dose (`ack_path`)."""
    data = {
        "task_id": str(delivery.id),
        "reminder_id": str(delivery.reminder_id),
        "occurrence_id": str(delivery.occurrence_id),
        "step": delivery.step,
        "text": delivery.text,
        "due_at": delivery.due_at.isoformat(),
        "ack_path": ack_path(delivery.reminder_id, delivery.occurrence_id),
    }
    return AppNotice(f"reminder.{delivery.step}", data, delivery.id)


async def push_to_app(
    user_id: uuid.UUID, notice: AppNotice, *, uow: ContactsUnitOfWork, queue: TaskQueue | None
) -> uuid.UUID | None:
    """Queue the push of `notice` to the person's app; returns its task id, or None when the person
    registered no webhook (the app then sees the event by polling only).

    Idempotent on the notice's source and type. `queue` as for domain.notify.notify_contacts:
    None inside a transaction of yours (the relay publishes after your commit)."""
    if notice.type not in APP_EVENT_TYPES:
        raise InvalidInput(f"unknown app event type {notice.type!r}")
    if await uow.app_webhooks.get(user_id) is None:
        return None
    task = NewTask(
        id=app_push_task_id(notice.source_id, notice.type),
        user_id=user_id,
        conversation_id=notification_conversation_id(user_id, notice.source_id),
        kind=APP_PUSH_KIND,
        lane=NOTIFY_LANE,
        intent=Intent.SET_REMINDER.value,
        slots={},
        input={"event_type": notice.type, "data": dict(notice.data), "source_id": str(notice.source_id)},
        parser="system",
        max_attempts=DELIVERY_RETRY.max_attempts,
        idempotency_key=None,
        request_hash=None,
        reason=f"push: {notice.type}",
        presumed_published=queue is not None,
    )
    await enqueue_notifications([task], uow=uow, queue=queue)
    return task.id


def app_notice_of(task: Task) -> AppNotice:
    """The notice a push task carries; PermanentError when its input is not one."""
    event_type, data = task.input.get("event_type"), task.input.get("data")
    if event_type not in APP_EVENT_TYPES or not isinstance(data, dict):
        raise PermanentError("a push task needs a known event_type and its data")
    try:
        source_id = uuid.UUID(str(task.input.get("source_id")))
    except ValueError as exc:
        raise PermanentError("a push task needs a source_id") from exc
    return AppNotice(str(event_type), data, source_id)


async def deliver_to_app(task: Task, notice: AppNotice, *, ports: DeliveryPorts) -> Outcome:
    """Send the notice once to the person's app webhook; nothing if they removed it meanwhile.

    Raises TransientError while another run holds the delivery (the task retries later).
    """
    async with ports.uow() as uow:
        target = await uow.app_webhooks.signing_target(task.user_id)
        if target is None:
            return Outcome.succeeded(result={"delivered": False, "reason": "no app webhook"})
        new = _new_delivery(task, notice, target.webhook, ports.clock)
        claimed = await claim_delivery(uow, new, ports)
    result: dict[str, Any] = {"delivery_id": str(new.id), "event_type": notice.type}
    if claimed is None:
        return Outcome.succeeded(result=result | {"delivered": True, "status_code": None})
    sent = await send_claimed(task, Endpoint(target.webhook.url, target.secrets), claimed, ports=ports)
    delivered = sent.result is AttemptResult.DELIVERED
    return replace(
        sent.outcome, result=result | {"delivered": delivered, "status_code": sent.report.status_code}
    )


def _new_delivery(task: Task, notice: AppNotice, webhook: AppWebhook, clock: Clock) -> NewDelivery:
    delivery_id = app_delivery_id(task.id, webhook.id)
    body = envelope(notice.type, clock.now(), {"delivery_id": str(delivery_id), **notice.data})
    return NewDelivery(delivery_id, None, task.id, notice.type, body, app_webhook_id=webhook.id)
