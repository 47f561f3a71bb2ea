"""The pure rules: opening hours, alternatives, references, forgiving venue names."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.booking_flow import choose_alternative
from domain.bookings import (
    Resource,
    Venue,
    VenueKind,
    booking_ref,
    candidate_starts,
    find_service,
    is_open,
    pick_alternatives,
)
from domain.demo_venues import demo_venues
from domain.venue_match import match_venue

ZONE = "Europe/Stockholm"
DEMO = demo_venues(ZONE)


def _late_bar() -> Venue:
    return Venue(
        id=uuid.uuid4(), slug="late", name="Late Bar", kind=VenueKind.RESTAURANT, timezone="UTC",
        hours={4: ((time(18), time(2)),)}, resources=(Resource(uuid.uuid4(), "T", "table", 4),),
    )  # fmt: skip


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)  # 4 Dec 2026 is a Friday


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (_utc(4, 18), 120, True),
        (_utc(4, 17, 30), 60, False),
        (_utc(5, 0, 30), 90, True),  # Friday's window runs past midnight
        (_utc(5, 1, 30), 60, False),
        (_utc(5, 18), 60, False),  # closed on Saturdays
    ],
)
def test_opening_hours(start: datetime, minutes: int, expected: bool) -> None:
    assert is_open(_late_bar(), start, start + timedelta(minutes=minutes)) is expected


def test_candidates_are_on_the_grid_nearest_first_and_open_for_the_whole_booking() -> None:
    luigis = DEMO[0]
    wanted = datetime(2026, 12, 4, 21, 0, tzinfo=luigis.zone)
    found = candidate_starts(luigis, wanted, timedelta(hours=2), now=wanted - timedelta(days=1))
    assert found[:3] == [
        wanted - timedelta(minutes=30),
        wanted - timedelta(hours=1),
        wanted - timedelta(minutes=90),
    ]
    assert all(at + timedelta(hours=2) <= wanted.replace(hour=23) for at in found)
    late = candidate_starts(luigis, wanted, timedelta(hours=2), now=wanted - timedelta(minutes=40))
    assert min(late) >= wanted - timedelta(minutes=40)


def test_alternatives_one_before_and_one_after() -> None:
    wanted = _utc(4, 19)
    assert pick_alternatives(wanted, [_utc(4, 17), _utc(4, 18, 30), _utc(4, 20), _utc(4, 21)]) == [
        _utc(4, 18, 30),
        _utc(4, 20),
    ]
    assert pick_alternatives(wanted, [_utc(4, 20), _utc(4, 21), _utc(4, 22)]) == [_utc(4, 20), _utc(4, 21)]
    assert pick_alternatives(wanted, []) == []


def test_references_are_short_readable_and_stable() -> None:
    booking_id = uuid.UUID("018f6b2a-0000-7000-8000-000000000001")
    ref = booking_ref("Luigi's Trattoria", booking_id)
    assert ref == booking_ref("Luigi's Trattoria", booking_id)
    assert ref.startswith("LT-") and len(ref) == 7
    assert not set(ref[3:]) & set("01ILO")
    assert booking_ref("Bella Hair Salon", booking_id).startswith("BH-")


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Luigi's", "Luigi's Trattoria"),
        ("luigis", "Luigi's Trattoria"),
        ("LUIGI\u2019S TRATTORIA", "Luigi's Trattoria"),
        ("Luigi", "Luigi's Trattoria"),
        ("luigis tratoria", "Luigi's Trattoria"),
        ("the golden dragon", "Golden Dragon"),
        ("Golden Dragn", "Golden Dragon"),
        ("Bella's", "Bella Hair Salon"),
        ("bellas salon", "Bella Hair Salon"),
        ("Riverside", "Riverside Dental"),
        ("riverside dentist", "Riverside Dental"),
        ("Pizza Hut", None),
        ("Golden Palace", None),
        ("Bella Italia", None),
        ("Mario's", None),
        ("the restaurant", None),
        ("dentist", None),
        ("", None),
    ],
)
def test_venue_names_are_matched_forgivingly_but_only_to_known_venues(
    said: str, expected: str | None
) -> None:
    match = match_venue(said, DEMO)
    assert (match.venue.name if match.venue else None) == expected


def test_two_venues_alike_are_a_question() -> None:
    dragon = DEMO[1]
    express = dataclasses.replace(dragon, id=uuid.uuid4(), slug="gde", name="Golden Dragon Express")
    assert match_venue("golden dragon", [*DEMO, express]).venue == dragon  # the exact name wins
    vague = match_venue("golden", [*DEMO, express])
    assert vague.venue is None and {v.name for v in vague.candidates} == {
        "Golden Dragon",
        "Golden Dragon Express",
    }


def test_services_by_their_venue_names() -> None:
    dental = DEMO[3]
    assert find_service(dental, "Checkup") == "check-up"
    assert find_service(dental, "check up") == "check-up"
    assert find_service(dental, "haircut") is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("18:30 please", 0), ("8pm", 1), ("the first one", 0), ("the later one", 1), ("second", 1),
     ("at 20:00", 1), ("19:00", None), ("no thanks", None)],
)  # fmt: skip
def test_a_reply_picks_one_of_the_offered_times(reply: str, expected: int | None) -> None:
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    offered = [
        datetime(2026, 12, 4, 18, 30, tzinfo=ZoneInfo(ZONE)),
        datetime(2026, 12, 4, 20, 0, tzinfo=ZoneInfo(ZONE)),
    ]
    picked = choose_alternative(reply, offered, now, ZONE)
    assert picked == (offered[expected] if expected is not None else None)
