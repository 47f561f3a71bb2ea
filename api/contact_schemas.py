"""Wire models of the contacts API and of the person's own app webhook. A secret appears only in the
answers to creation and rotation."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.app_webhooks import AppWebhookSet
from domain.contact_book import RotatedSecret
from domain.contacts import TOPICS, Contact, Topic
from domain.notify_ports import AppWebhook, Attempt, Delivery, DeliveryStatus
from domain.webhooks import AttemptResult


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentsIn(_Strict):
    """What the contact agreed to be told. Topics left out stay as they are (on PATCH) or off."""

    messages: bool | None = Field(None, description="The person's own messages (notify_family)")
    escalations: bool | None = Field(None, description="Escalations, e.g. a missed medicine")
    bookings: bool | None = Field(None, description="Booking confirmations")

    def given(self) -> dict[Topic, bool]:
        values = self.model_dump()
        return {topic: bool(values[topic]) for topic in TOPICS if values[topic] is not None}


class Consents(BaseModel):
    messages: bool
    escalations: bool
    bookings: bool


class ContactIn(_Strict):
    name: str = Field(min_length=1, max_length=100, examples=["Anna"])
    relation: str | None = Field(None, max_length=50, examples=["daughter"])
    webhook_url: str = Field(min_length=1, max_length=2048, examples=["https://example.com/errand-hook"])
    consents: ConsentsIn = Field(default_factory=ConsentsIn)
    secret: str | None = Field(
        None, max_length=200, description="A `whsec_` secret of your own; one is made when left out"
    )


class ContactPatch(_Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    relation: str | None = Field(None, max_length=50, description="An empty string clears it")
    webhook_url: str | None = Field(None, min_length=1, max_length=2048)
    consents: ConsentsIn | None = None


class ContactOut(BaseModel):
    id: uuid.UUID
    name: str
    relation: str | None
    webhook_url: str
    consents: Consents
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=contact.id,
            name=contact.name,
            relation=contact.relation,
            webhook_url=contact.webhook_url,
            consents=Consents(**{t: contact.allows(t) for t in TOPICS}),
            created_at=contact.created_at,
            updated_at=contact.updated_at,
        )


class ContactCreated(ContactOut):
    secret: str = Field(description="The webhook signing secret (`whsec_…`). Shown once: store it now.")


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret. Shown once.")
    previous_valid_until: datetime = Field(
        description="Until then deliveries also carry a signature made with the previous secret"
    )

    @classmethod
    def of(cls, rotated: RotatedSecret) -> SecretOut:
        return cls(secret=rotated.secret, previous_valid_until=rotated.previous_valid_until)


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    result: AttemptResult
    status_code: int | None
    error: str | None
    duration_ms: float

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            attempt=a.attempt,
            at=a.at,
            result=a.result,
            status_code=a.status_code,
            error=a.error,
            duration_ms=round(a.duration_ms, 2),
        )


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="Also the `webhook-id` header: receivers drop repeats of it")
    task_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            task_id=d.task_id,
            event_type=d.event_type,
            status=d.status,
            created_at=d.created_at,
            updated_at=d.updated_at,
            delivered_at=d.delivered_at,
            last_status_code=d.last_status_code,
            attempts=[AttemptOut.of(a) for a in d.log],
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class AppWebhookIn(_Strict):
    url: str = Field(min_length=1, max_length=2048, examples=["https://app.example.com/errand-hook"])
    secret: str | None = Field(
        None,
        max_length=200,
        description="A `whsec_` secret of your own for a new webhook; one is made when left out",
    )


class AppWebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, webhook: AppWebhook) -> AppWebhookOut:
        return cls(
            id=webhook.id, url=webhook.url, created_at=webhook.created_at, updated_at=webhook.updated_at
        )


class AppWebhookSetOut(AppWebhookOut):
    secret: str | None = Field(
        description="The signing secret (`whsec_…`) of a webhook this request created, shown once: "
        "store it now. null when only the URL changed."
    )

    @classmethod
    def of_set(cls, done: AppWebhookSet) -> AppWebhookSetOut:
        return cls(**AppWebhookOut.of(done.webhook).model_dump(), secret=done.secret)
