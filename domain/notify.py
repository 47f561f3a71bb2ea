"""Notifying family through signed webhooks: one delivery per (task, contact), logged per attempt.

Exactly-once as far as a sender can promise it: the delivery row is claimed in SQL before
sending and is never claimed again once it succeeded, so a re-run or a duplicate doorbell does not
send twice. Only a crash between the receiver's 2xx and the commit of the log can repeat a send,
with the same `webhook-id`, which receivers use to drop the duplicate.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.contacts import Contact, SystemTopic, Topic, contacts_named
from domain.errors import Conflict, InvalidInput, NotFound, PermanentError, TransientError
from domain.intents import Intent
from domain.notify_ports import (
    ContactsUnitOfWork,
    ContactsUnitOfWorkFactory,
    Delivery,
    DeliveryStatus,
    NewDelivery,
    SigningTarget,
    WebhookRequest,
    WebhookSender,
)
from domain.ports import Clock, Doorbell, NewTask, TaskQueue
from domain.services import DeadLetterQueue
from domain.tasks import Lane, Outcome, Task, TaskStatus, decide_failure
from domain.users import User
from domain.webhooks import (
    DELIVERY_RETRY,
    AttemptResult,
    Event,
    SendReport,
    delivery_id,
    describe,
    judge,
    notification_conversation_id,
    notification_task_id,
)

log = logging.getLogger(__name__)

NOTIFY_FAMILY_KIND = "notify_family"
NOTIFY_CONTACT_KIND = "notify_contact"
NOTIFY_LANE = Lane.NOTIFY
MAX_TEXT = 1000
LEASE_MARGIN_SECONDS = 5.0
"""A delivery being sent is held this much longer than the sender's timeout: long enough that a
live run is never overtaken, short enough that a crashed one is taken up at the next retry."""


class WebhookFailed(TransientError):
    """The receiver did not take the delivery (5xx, 408, 429, timeout, connection error)."""


class WebhookRejected(PermanentError):
    """The receiver refused it (another 4xx) or redirected it: retrying would not help."""


class DestinationRefused(PermanentError):
    """The URL resolves to an address webhooks may not reach."""


class ConsentMissing(PermanentError):
    """The contact has not agreed to be told about this topic."""


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    NO_CONTACT = "no_contact"
    NO_CONSENT = "no_consent"


@dataclass(frozen=True, slots=True)
class Notice:
    """What a notify task asks: tell this contact this text, about this topic."""

    task: Task
    contact_id: uuid.UUID
    topic: Topic
    text: str
    details: Mapping[str, Any] | None = None
    """Structured fields for the receiving system, sent beside the text (see domain.webhooks.Event)."""


@dataclass(frozen=True, slots=True)
class DeliveryPorts:
    uow: ContactsUnitOfWorkFactory
    sender: WebhookSender
    clock: Clock
    send_timeout_seconds: float


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    verdict: Verdict
    outcome: Outcome
    """The task's outcome, without a reply: the skill words that for the person."""
    contact: Contact | None = None


async def deliver(notice: Notice, *, ports: DeliveryPorts) -> DeliveryResult:
    """Send the notice once to its contact, if the contact still exists and consents.

    Raises TransientError when another run holds the delivery (the task retries later).
    """
    async with ports.uow() as uow:
        target = await uow.contacts.signing_target(notice.task.user_id, notice.contact_id)
        if target is None:
            return DeliveryResult(Verdict.NO_CONTACT, _not_sent("contact removed"))
        if not target.contact.allows(notice.topic):
            return DeliveryResult(Verdict.NO_CONSENT, _not_sent("no consent"), target.contact)
        claimed = await claim_delivery(uow, _new_delivery(notice, target, ports.clock), ports)
    if claimed is None:
        return DeliveryResult(Verdict.SENT, _sent(notice, target.contact, None), target.contact)
    endpoint = Endpoint(target.contact.webhook_url, target.secrets)
    sent = await send_claimed(notice.task, endpoint, claimed, ports=ports)
    if sent.result is AttemptResult.DELIVERED:
        outcome = _sent(notice, target.contact, sent.report.status_code)
    else:
        outcome = replace(sent.outcome, result=_result(notice, target.contact, delivered=False))
    verdict = {TaskStatus.SUCCEEDED: Verdict.SENT, TaskStatus.RETRYING: Verdict.RETRY}
    return DeliveryResult(verdict.get(outcome.status, Verdict.FAILED), outcome, target.contact)


def _new_delivery(notice: Notice, target: SigningTarget, clock: Clock) -> NewDelivery:
    event = Event(
        delivery_id=delivery_id(notice.task.id, target.contact.id),
        topic=notice.topic,
        text=notice.text,
        contact=target.contact,
        sender_name=target.sender_name,
        at=clock.now(),
        details=notice.details,
    )
    return NewDelivery(event.delivery_id, target.contact.id, notice.task.id, event.type, event.body())


# Sending one delivery, whatever the endpoint -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a delivery goes and the secrets that sign it."""

    url: str
    secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sent:
    """One attempt on the wire, and what it means for the task that made it."""

    result: AttemptResult
    report: SendReport
    outcome: Outcome
    """Succeeded, retrying (on DELIVERY_RETRY's schedule) or dead-lettered; its `result` is the
    caller's to fill."""


async def claim_delivery(uow: ContactsUnitOfWork, new: NewDelivery, ports: DeliveryPorts) -> Delivery | None:
    """The delivery this run may send now (created at the first attempt, with its body fixed), or
    None when it succeeded before: an event is never sent twice. Raises TransientError while
    another run holds it (its lease outlasts that run's send, so a live send is never overtaken)."""
    claim = await uow.deliveries.claim(new, ports.send_timeout_seconds + LEASE_MARGIN_SECONDS)
    if claim.delivery is not None:
        return claim.delivery
    if claim.status is DeliveryStatus.SUCCEEDED:
        return None
    raise TransientError("this delivery is being sent by another run")


async def send_claimed(task: Task, endpoint: Endpoint, delivery: Delivery, *, ports: DeliveryPorts) -> Sent:
    """Send a claimed delivery once and log the attempt. The task retries a failure, or ends on a
    refusal; a crash before the log is written sends it again later, with the same `webhook-id`."""
    request = WebhookRequest(endpoint.url, str(delivery.id), delivery.body, endpoint.secrets)
    report = await ports.sender.send(request)
    result = judge(report)
    outcome = _attempt_outcome(task, result, report)
    async with ports.uow() as uow:
        await uow.deliveries.record(delivery.id, delivery.attempts, result, report, _status_after(outcome))
    log.info(
        "webhook attempt %s",
        result.value,
        extra={
            "delivery_id": str(delivery.id),
            "contact_id": str(delivery.contact_id) if delivery.contact_id else None,
            "app_webhook_id": str(delivery.app_webhook_id) if delivery.app_webhook_id else None,
            "attempt": delivery.attempts,
            "status_code": report.status_code,
            "elapsed_ms": round(report.duration_ms, 2),
        },
    )
    return Sent(result, report, outcome)


def _attempt_outcome(task: Task, result: AttemptResult, report: SendReport) -> Outcome:
    if result is AttemptResult.DELIVERED:
        return Outcome.succeeded()
    error: Exception
    if result is AttemptResult.FAILED:
        error = WebhookFailed(describe(report))
    elif result is AttemptResult.REFUSED:
        error = DestinationRefused(report.error or "destination refused")
    else:
        error = WebhookRejected(describe(report))
    outcome = decide_failure(
        error, transient=result is AttemptResult.FAILED, attempt=task.attempts, policy=DELIVERY_RETRY
    )
    return replace(outcome, error=dict(outcome.error or {}, status_code=report.status_code))


def _status_after(outcome: Outcome) -> DeliveryStatus:
    if outcome.status is TaskStatus.SUCCEEDED:
        return DeliveryStatus.SUCCEEDED
    return DeliveryStatus.RETRYING if outcome.status is TaskStatus.RETRYING else DeliveryStatus.DEAD


def _result(notice: Notice, contact: Contact, *, delivered: bool) -> dict[str, Any]:
    return {
        "delivered": delivered,
        "delivery_id": str(delivery_id(notice.task.id, contact.id)),
        "contact_id": str(contact.id),
        "topic": notice.topic,
    }


def _sent(notice: Notice, contact: Contact, status_code: int | None) -> Outcome:
    return Outcome.succeeded(result=_result(notice, contact, delivered=True) | {"status_code": status_code})


def _not_sent(reason: str) -> Outcome:
    return Outcome.succeeded(result={"delivered": False, "reason": reason})


def consent_refusal(notice: Notice, contact: Contact, reply: str | None) -> Outcome:
    """A refusal is permanent (see PermanentError): dead-lettered at once, with the reason kept."""
    outcome = decide_failure(
        ConsentMissing(f"the contact has not agreed to {notice.topic}"),
        transient=False,
        attempt=notice.task.attempts,
        policy=DELIVERY_RETRY,
    )
    return replace(outcome, reply=reply, result=_result(notice, contact, delivered=False))


# Notifications for other parts of Errand -----------------------------------------------------


def _valid_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("a notification needs a text")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(f"a notification has at most {MAX_TEXT} characters")
    return cleaned


def _notification_task(
    user_id: uuid.UUID,
    contact: Contact,
    topic: SystemTopic,
    text: str,
    source_id: uuid.UUID,
    published: bool,
    details: Mapping[str, Any] | None,
) -> NewTask:
    extra = {"details": dict(details)} if details else {}
    return NewTask(
        id=notification_task_id(source_id, contact.id, topic),
        user_id=user_id,
        conversation_id=notification_conversation_id(user_id, source_id),
        kind=NOTIFY_CONTACT_KIND,
        lane=NOTIFY_LANE,
        intent=Intent.NOTIFY_FAMILY.value,
        slots={"contact": contact.name, "message": text},
        input={
            "contact_id": str(contact.id),
            "topic": topic,
            "text": text,
            "source_id": str(source_id),
            **extra,
        },
        parser="system",
        max_attempts=DELIVERY_RETRY.max_attempts,
        idempotency_key=None,
        request_hash=None,
        reason=f"notification: {topic}",
        presumed_published=published,
    )


async def notify_contacts(
    user_id: uuid.UUID,
    topic: SystemTopic,
    text: str,
    *,
    source_id: uuid.UUID,
    uow: ContactsUnitOfWork,
    queue: TaskQueue | None,
    only: Sequence[str] = (),
    details: Mapping[str, Any] | None = None,
) -> list[uuid.UUID]:
    """Queue a notification to each of the user's contacts who agreed to `topic`; returns the task ids.

    `only` narrows them to the contacts named there (names, relations or ids, as the person says
    them: "Anna", "my daughter"); the consent still decides. `details` are structured fields of what
    the text says, sent beside it (JSON-serialisable).

    Idempotent: the task ids derive from `source_id`, the contact and the topic, so calling it again
    (a retried reminder, a re-run job) inserts nothing new. Inside a transaction of yours pass
    `queue=None`: the rows are the outbox, and the relay publishes them once you commit. Outside
    one, pass the queue and they are published at once (or handed to the relay if that fails).
    """
    text = _valid_text(text)
    contacts = await uow.contacts.consenting(user_id, topic)
    if only:
        contacts = [c for c in contacts if any(c in contacts_named(name, contacts) for name in only)]
    published = queue is not None
    tasks = [_notification_task(user_id, c, topic, text, source_id, published, details) for c in contacts]
    await enqueue_notifications(tasks, uow=uow, queue=queue)
    return [t.id for t in tasks]


async def enqueue_notifications(
    tasks: Sequence[NewTask], *, uow: ContactsUnitOfWork, queue: TaskQueue | None
) -> None:
    """Insert notification tasks with derived ids (those that exist are left alone) and publish the
    new ones: at once with a queue, or by the relay after the caller's commit with `queue=None`
    (then build them with `presumed_published=False`)."""
    if not tasks:
        return
    inserted = await uow.deliveries.enqueue(tasks)
    published = queue is None or not inserted or await queue.publish([_doorbell(t) for t in inserted])
    if not published:  # the broker is away: the relay publishes them
        for task in inserted:
            await uow.tasks.mark_unpublished(task.id)


def _doorbell(task: Task) -> Doorbell:
    return Doorbell(task.id, task.lane, task.kind)


# The delivery log, as the person sees it -----------------------------------------------------


async def _own_contact(user: User, contact_id: uuid.UUID, uow: ContactsUnitOfWork) -> Contact:
    contact = await uow.contacts.get(user.id, contact_id)
    if contact is None:
        raise NotFound("contact not found")
    return contact


async def list_deliveries(
    user: User, contact_id: uuid.UUID, *, limit: int, cursor: uuid.UUID | None, uow: ContactsUnitOfWork
) -> tuple[list[Delivery], uuid.UUID | None]:
    """A page of the contact's deliveries, newest first, with every attempt; and the next cursor."""
    _check_limit(limit)
    await _own_contact(user, contact_id, uow)
    return await endpoint_deliveries(contact_id, limit=limit, cursor=cursor, uow=uow)


async def endpoint_deliveries(
    endpoint_id: uuid.UUID, *, limit: int, cursor: uuid.UUID | None, uow: ContactsUnitOfWork
) -> tuple[list[Delivery], uuid.UUID | None]:
    """As list_deliveries, for any endpoint (a contact, an app webhook) the caller has found to be
    the person's own."""
    _check_limit(limit)
    page = await uow.deliveries.page(endpoint_id, limit + 1, cursor)
    next_cursor = page[limit - 1].id if len(page) > limit else None
    return page[:limit], next_cursor


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100")


async def replay_delivery(
    user: User,
    contact_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    uow: ContactsUnitOfWork,
    queue: TaskQueue,
    dlq: DeadLetterQueue,
) -> Delivery:
    """Send a dead delivery again, with fresh attempts. Conflict when it succeeded (an event is
    never sent twice) or is still being retried; NotFound when it is not the user's."""
    await _own_contact(user, contact_id, uow)
    return await replay_endpoint_delivery(contact_id, delivery_id, uow=uow, queue=queue, dlq=dlq)


async def replay_endpoint_delivery(
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    uow: ContactsUnitOfWork,
    queue: TaskQueue,
    dlq: DeadLetterQueue,
) -> Delivery:
    """As replay_delivery, for any endpoint the caller has found to be the person's own."""
    delivery = await uow.deliveries.get(endpoint_id, delivery_id)
    if delivery is None:
        raise NotFound("delivery not found")
    if delivery.status is DeliveryStatus.SUCCEEDED:
        raise Conflict("this delivery succeeded; an event is never sent twice")
    async with uow.transaction():
        task = await uow.tasks.requeue_dead_letter(
            delivery.task_id, "webhook delivery replayed by the person"
        )
        if task is None:
            raise Conflict("this delivery is still being retried")
        await uow.deliveries.reopen(delivery.id)
    await dlq.discard(task.id)
    if not await queue.publish([_doorbell(task)]):
        await uow.tasks.mark_unpublished(task.id)
    replayed = await uow.deliveries.get(endpoint_id, delivery_id)
    assert replayed is not None
    return replayed
