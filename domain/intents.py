"""The intent taxonomy and what a parser returns. Fixed: the API exposes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Intent(StrEnum):
    BOOK_RESTAURANT = "book_restaurant"
    BOOK_APPOINTMENT = "book_appointment"
    CANCEL_BOOKING = "cancel_booking"
    BOOKING_STATUS = "booking_status"
    SET_REMINDER = "set_reminder"
    LIST_REMINDERS = "list_reminders"
    NOTIFY_FAMILY = "notify_family"
    ASK_QUESTION = "ask_question"
    NONE = "none"


ACTIONS = frozenset(
    {
        Intent.BOOK_RESTAURANT,
        Intent.BOOK_APPOINTMENT,
        Intent.CANCEL_BOOKING,
        Intent.SET_REMINDER,
        Intent.NOTIFY_FAMILY,
    }
)
"""Intents that change something in the world: the costly kind to get wrong."""


@dataclass(frozen=True, slots=True)
class ParsedIntent:
    intent: Intent
    confidence: float
    parser: str
    """Which parser produced it, recorded on the task (e.g. when the LLM fell back to local)."""
    slots: dict[str, Any] = field(default_factory=dict)
    """Filled slots, JSON-ready (see domain.slots.Slots)."""
    missing: tuple[str, ...] = ()
    """Required slots the message did not give, in the order they will be asked for."""
    unsupported: bool = False
    """A request we do not serve yet (an alarm, a calendar edit): answered with 'I can't do that yet'."""
    unsure: bool = False
    """The parser leaned towards an action without enough confidence: ask, never guess."""
    confirmed: bool = False
    """The words themselves confirm the action ("undo"): no read-back."""
    candidate: str | None = None
    """What the classifier leaned towards, when the intent was withheld (unsure or unsupported)."""
