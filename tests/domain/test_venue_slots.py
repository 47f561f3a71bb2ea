"""Which words name the place in a booking message. Every wording here was written for this test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.intents import Intent
from domain.slot_extraction import extract_slots
from domain.venue_slots import venue

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("book a table for 4 at Luigi's tomorrow at 7", "Luigi's"),
        ("At Luigi's, a table for two please", "Luigi's"),
        ("a table at the Golden Dragon in Leeds on Friday", "Golden Dragon"),
        ("reserve a table at Tavern on the Green for six", "Tavern on the Green"),
        ("book the Old Bell Inn for Sunday lunch", "Old Bell Inn"),
        ("I'd like a reservation for Harveys on Saturday", "Harveys"),
        ("a trim at the salon called Cut Above on Tuesday", "Cut Above"),
        ("we want to eat at the restaurant Rosa Lee tonight", "Rosa Lee"),
        ("I'm going to Bella Napoli Restaurant. Please book it for 2.", "Bella Napoli Restaurant"),
        ("get me in at Style Bar salon at 10", "Style Bar"),
        ("I want to see Dr. Patel on Monday morning", "Dr. Patel"),
        ("book a table for 2 with my son at Sakura Sushi", "Sakura Sushi"),
        ("a table for 3 at Number 10 please", "Number 10"),
        ("book us in at Cafe Rouge. My daughter is coming too.", "Cafe Rouge"),
    ],
)
def test_a_capitalised_name_is_read_whole(text: str, place: str) -> None:
    assert venue(text) == place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("i'd like a table for two at the golden dragon on friday at half six", "golden dragon"),
        ("book a table for four at luigi's tomorrow at seven", "luigi's"),
        ("table at the red lion restaurant please", "red lion"),
        ("can you get us in at the swan for 6", "swan"),
    ],
)
def test_a_name_typed_in_lower_case_is_read_after_at(text: str, place: str) -> None:
    assert venue(text) == place


@pytest.mark.parametrize(
    "text",
    [
        "book a table for two at 7pm",
        "book a table at the weekend",
        "book a table at the best italian restaurant in town",
        "a haircut at the salon on friday",
        "a table somewhere near Kings Cross",
        "a table for 2 not far from Hyde Park",
        "book a restaurant in York for Saturday",
        "I need a table. Just for me.",
        "book a table at the usual place",
    ],
)
def test_no_place_is_read_where_none_is_named(text: str) -> None:
    """An area ("near Kings Cross", "in York"), a time or a kind of place is not a venue: the
    conversation asks which one instead of matching a wrong name."""
    assert venue(text) is None


def test_a_guest_after_with_is_only_a_last_resort() -> None:
    assert venue("a table with Anna at Luigi's") == "Luigi's"


@pytest.mark.parametrize("intent", [Intent.BOOK_RESTAURANT, Intent.CANCEL_BOOKING, Intent.BOOKING_STATUS])
def test_the_booking_intents_read_the_place(intent: Intent) -> None:
    slots = extract_slots(intent, "my table at the golden dragon on friday at 7", NOW, "Europe/London")
    assert slots.venue == "golden dragon"


def test_a_time_is_never_read_as_the_place() -> None:
    text = "a table at Luigi's at Midnight for 2"
    slots = extract_slots(Intent.BOOK_RESTAURANT, text, NOW, "Europe/London")
    assert slots.venue == "Luigi's"


def test_a_long_message_costs_little() -> None:
    """4,000 characters of capitalised words after cues: the patterns must not backtrack badly."""
    text = ("at The Big Red House of Many Names " * 120)[:4000]
    assert venue(text) is not None
