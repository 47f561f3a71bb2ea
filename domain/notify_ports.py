"""The seams of contacts and webhook notifications: repositories, the sender, the destination guard.

`ContactsUnitOfWork` is the core unit of work plus the webhook endpoints (the family's contacts, the
person's own app webhook) and the delivery log, on one connection, so that a use case
(notify_contacts, push_to_app) can insert notification tasks in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.contacts import Contact, Topic
from domain.ports import NewTask, UnitOfWork
from domain.tasks import Task
from domain.webhooks import AttemptResult, SendReport


@dataclass(frozen=True, slots=True)
class SigningTarget:
    """A contact as the sender needs it: where to post and the secrets to sign with (the current
    one, and the previous one during its grace period after a rotation)."""

    contact: Contact
    secrets: tuple[str, ...]
    sender_name: str | None
    """The person's name, so the family knows who the message is from."""


@dataclass(frozen=True, slots=True)
class AppWebhook:
    """The person's own app endpoint, where their reminders are pushed. Like a contact, it carries no
    secret, so that the secret cannot reach a log or an answer by accident."""

    id: uuid.UUID
    """Also the key of its deliveries in the log (never reused: a new webhook gets a new id)."""
    user_id: uuid.UUID
    url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AppSigningTarget:
    webhook: AppWebhook
    secrets: tuple[str, ...]
    """The current secret, and the previous one during its grace period after a rotation."""


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt: int
    at: datetime
    result: AttemptResult
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint (its id is the `webhook-id`), and every attempt to send it."""

    id: uuid.UUID
    contact_id: uuid.UUID | None
    """The family contact it went to; None for a delivery to the person's own app."""
    task_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    body: str
    log: tuple[Attempt, ...] = ()
    app_webhook_id: uuid.UUID | None = None
    """The person's app webhook it went to; None for a delivery to a contact."""


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: uuid.UUID
    contact_id: uuid.UUID | None
    task_id: uuid.UUID
    event_type: str
    body: str
    app_webhook_id: uuid.UUID | None = None
    """Set instead of `contact_id` for a delivery to the person's own app."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The result of asking to send: the delivery (with its attempt number) when this run may send
    it, or None with the status that stopped it (succeeded already, or being sent elsewhere)."""

    delivery: Delivery | None
    status: DeliveryStatus


class ContactRepository(Protocol):
    async def add(self, contact: Contact, secret: str) -> None: ...

    async def count(self, user_id: uuid.UUID) -> int: ...

    async def of_user(self, user_id: uuid.UUID) -> list[Contact]:
        """The user's contacts, oldest first."""
        ...

    async def get(self, user_id: uuid.UUID, contact_id: uuid.UUID) -> Contact | None:
        """None for another user's contact as for a missing one."""
        ...

    async def update(self, contact: Contact) -> Contact | None: ...

    async def delete(self, user_id: uuid.UUID, contact_id: uuid.UUID) -> bool: ...

    async def rotate_secret(
        self, user_id: uuid.UUID, contact_id: uuid.UUID, secret: str, grace_seconds: float
    ) -> datetime | None:
        """The new secret becomes current; the old one keeps signing for `grace_seconds`.
        Returns when the old one stops, None if the contact is not the user's."""
        ...

    async def consenting(self, user_id: uuid.UUID, topic: Topic) -> list[Contact]: ...

    async def signing_target(self, user_id: uuid.UUID, contact_id: uuid.UUID) -> SigningTarget | None: ...


class DeliveryLog(Protocol):
    async def claim(self, new: NewDelivery, lease_seconds: float) -> Claim:
        """Create the delivery or take it up again, unless it succeeded already or another run
        holds it (its lease not yet expired). One statement: the check and the claim are atomic."""
        ...

    async def record(
        self,
        delivery_id: uuid.UUID,
        attempt: int,
        result: AttemptResult,
        report: SendReport,
        status: DeliveryStatus,
    ) -> None:
        """Log the attempt and move the delivery to `status` (if this run still holds it)."""
        ...

    async def page(self, endpoint_id: uuid.UUID, limit: int, before: uuid.UUID | None) -> list[Delivery]:
        """The deliveries to one endpoint (a contact's id or an app webhook's), newest first, each
        with its attempts."""
        ...

    async def get(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Delivery | None: ...

    async def reopen(self, delivery_id: uuid.UUID) -> None:
        """A replayed dead delivery may be sent again."""
        ...

    async def enqueue(self, tasks: Sequence[NewTask]) -> list[Task]:
        """Insert notification tasks (ids are derived, so one that exists is left alone); returns
        those inserted now. One statement, with their conversations and first events."""
        ...


class AppWebhookRepository(Protocol):
    """The person's own app webhook, one per user."""

    async def get(self, user_id: uuid.UUID) -> AppWebhook | None: ...

    async def add(self, webhook: AppWebhook, secret: str) -> AppWebhook | None:
        """Store it unless the user has one already (then None: two first PUTs raced)."""
        ...

    async def set_url(self, user_id: uuid.UUID, url: str) -> AppWebhook | None:
        """A new URL for the existing webhook, keeping its id, secret and log; None if it has none."""
        ...

    async def delete(self, user_id: uuid.UUID) -> bool:
        """With its secret and its delivery log."""
        ...

    async def rotate_secret(self, user_id: uuid.UUID, secret: str, grace_seconds: float) -> datetime | None:
        """As ContactRepository.rotate_secret."""
        ...

    async def signing_target(self, user_id: uuid.UUID) -> AppSigningTarget | None: ...


class ContactsUnitOfWork(UnitOfWork, Protocol):
    @property
    def contacts(self) -> ContactRepository: ...

    @property
    def app_webhooks(self) -> AppWebhookRepository: ...

    @property
    def deliveries(self) -> DeliveryLog: ...


class ContactsUnitOfWorkFactory(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[ContactsUnitOfWork]: ...


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    webhook_id: str
    body: str
    secrets: tuple[str, ...]


class WebhookSender(Protocol):
    timeout_seconds: float
    """The longest one send may take, connection included."""

    async def send(self, request: WebhookRequest) -> SendReport:
        """POST the signed body once. Never raises for the receiver's or the network's failures:
        they are in the report (a refused destination too, with `refused`)."""
        ...


class DestinationGuard(Protocol):
    async def check(self, url: str) -> None:
        """Raises InvalidInput when the URL is malformed, does not resolve, or resolves to an
        address webhooks may not reach (private, loopback, … unless the operator allows them)."""
        ...
