"""Party size from the message: numbers that are people, not times, dates or durations."""

from __future__ import annotations

import pytest

from domain.party_size import extract_party_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("book a table for two at luigi's tomorrow at seven", 2),
        ("Table for 4 at the King's Head, Sunday 1pm", 4),
        ("a party of six at the oyster bar", 6),
        ("we need seats for 8 people on saturday", 8),
        ("there'll be 5 of us", 5),
        ("can they seat 3 at half past six", 3),
        ("book lunch for me and two friends", 3),
        ("lunch for me and my two sons", 3),
        ("a table for me and my wife tonight", 2),
        ("book the tea shop for my daughter and me", 2),
        ("just me at the cafe at noon", 1),
        ("a table for one please", 1),
        ("Make it for twelve, it's my 80th birthday", 12),
        ("the number of people is 2", 2),
        ("a table for 2 at 7 o'clock", 2),
        ("for 3 in the evening at 7:30", 3),
        ("a table for 1 minute from now for five people", 5),
        ("a table for 3 hours from now with a party of nine", 9),
    ],
)
def test_reads_the_party_size(text: str, size: int) -> None:
    assert extract_party_size(text) == size


@pytest.mark.parametrize(
    "text",
    [
        "book a table at luigi's for 7pm",
        "a reservation for 12:30 tomorrow",
        "book dinner for 7 o'clock",
        'a table for 7 o"clock in the evening',
        "a reservation for 7 in the evening",
        "book for the 5th of may",
        "somewhere for 9 and a half months from now",
        "book a hotel for 2 nights",
        "reserve a table for 11/1",
        "book a table at the crown",
        "book a table for my family on sunday",
        "a party of 60",
        "that works for me and i'd like to book",
    ],
)
def test_no_party_size_when_the_number_is_something_else(text: str) -> None:
    assert extract_party_size(text) is None
