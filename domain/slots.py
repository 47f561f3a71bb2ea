"""Slots: what an intent needs to be carried out, as pydantic models with JSON schemas.

The API exposes these names; the LLM parser is held to the same schema.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.intents import Intent


class Slots(BaseModel):
    """Every slot any intent may carry; each intent uses a few (see REQUIRED)."""

    model_config = ConfigDict(extra="forbid")

    venue: str | None = Field(
        None, max_length=200, description="Restaurant, salon, clinic: as the person said it"
    )
    party_size: int | None = Field(None, ge=1, le=50, description="People at the table")
    service: str | None = Field(None, max_length=200, description="Haircut, check-up, cleaning, …")
    start: datetime | None = Field(None, description="ISO 8601 with offset, in the person's time zone")
    end: datetime | None = None
    recurrence: str | None = Field(
        None, max_length=300, description="An RFC 5545 RRULE, e.g. FREQ=DAILY;BYHOUR=8"
    )
    what: str | None = Field(None, max_length=500, description="What to be reminded of")
    medicine: str | None = Field(None, max_length=200)
    dose: str | None = Field(None, max_length=100, description="e.g. '2 tablets', '5 ml'")
    contact: str | None = Field(
        None, max_length=200, description="A name or a relation: 'my daughter', 'Anna'"
    )
    message: str | None = Field(None, max_length=1000, description="What to tell the contact")
    booking_ref: str | None = Field(None, max_length=64)
    question: str | None = Field(None, max_length=1000)

    def present(self) -> dict[str, object]:
        """The filled slots, JSON-ready (datetimes as ISO 8601 strings)."""
        return self.model_dump(mode="json", exclude_none=True)


REQUIRED: dict[Intent, tuple[str, ...]] = {
    Intent.BOOK_RESTAURANT: ("venue", "start", "party_size"),
    Intent.BOOK_APPOINTMENT: ("venue", "start"),
    Intent.CANCEL_BOOKING: (),
    Intent.BOOKING_STATUS: (),
    Intent.SET_REMINDER: ("what", "start"),
    Intent.LIST_REMINDERS: (),
    Intent.NOTIFY_FAMILY: ("contact", "message"),
    Intent.ASK_QUESTION: ("question",),
    Intent.NONE: (),
}
"""Slots without which the intent cannot be carried out: missing ones are asked for, in this order."""


def missing_slots(intent: Intent, slots: Slots) -> tuple[str, ...]:
    return tuple(name for name in REQUIRED[intent] if getattr(slots, name) in (None, ""))
