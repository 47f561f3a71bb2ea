"""The seams of contacts and webhook notifications: repositories, the sender, the destination guard.

`ContactsUnitOfWork` is the core unit of work plus the contacts and the delivery log, on one
connection, so that a use case (notify_contacts) can insert notification tasks in the caller's
transaction.
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
    """One event for one contact (its id is the `webhook-id`), and every attempt to send it."""

    id: uuid.UUID
    contact_id: uuid.UUID
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


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: uuid.UUID
    contact_id: uuid.UUID
    task_id: uuid.UUID
    event_type: str
    body: str


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

    async def page(self, contact_id: uuid.UUID, limit: int, before: uuid.UUID | None) -> list[Delivery]:
        """The contact's deliveries, newest first, each with its attempts."""
        ...

    async def get(self, contact_id: uuid.UUID, delivery_id: uuid.UUID) -> Delivery | None: ...

    async def reopen(self, delivery_id: uuid.UUID) -> None:
        """A replayed dead delivery may be sent again."""
        ...

    async def enqueue(self, tasks: Sequence[NewTask]) -> list[Task]:
        """Insert notification tasks (ids are derived, so one that exists is left alone); returns
        those inserted now. One statement, with their conversations and first events."""
        ...


class ContactsUnitOfWork(UnitOfWork, Protocol):
    @property
    def contacts(self) -> ContactRepository: ...

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
