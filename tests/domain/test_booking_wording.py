"""The bookings skill's composed replies, in English and in Swedish (`domain.wording.Said`): the
English is what the person has always heard, the Swedish is a sentence of its own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.booking_flow import Full, Wish
from domain.bookings import Booking, BookingStatus, Venue
from domain.demo_venues import demo_venues
from domain.skills.bookings import (
    _booked,
    _cancelled,
    _did_you_mean,
    _not_free,
    _read_back,
    _services_offered,
    _too_many,
    _which,
    _which_venue,
    _you_have,
    short_when,
)
from domain.speech import localize
from domain.wording import Said

ZONE = "Europe/Stockholm"
TZ = ZoneInfo(ZONE)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday
VENUES = {v.name: v for v in demo_venues(ZONE)}
LUIGIS, BELLA = VENUES["Luigi's Trattoria"], VENUES["Bella Hair Salon"]


def _at(day: int, clock: str, month: int = 11) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def _booking(
    venue: Venue, starts_at: datetime, ref: str, *, party: int = 1, service: str | None = None
) -> Booking:
    return Booking(
        id=uuid.uuid4(),
        ref=ref,
        user_id=uuid.uuid4(),
        task_id=uuid.uuid4(),
        venue_id=venue.id,
        resource_id=venue.resources[0].id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        party_size=party,
        service=service,
        status=BookingStatus.CONFIRMED,
    )


def _both(reply: str | None) -> tuple[str, str]:
    assert isinstance(reply, Said), reply
    return str(reply), reply.sv


@pytest.mark.parametrize(
    ("at", "english", "swedish"),
    [
        (_at(23, "19:00"), "today at 19:00", "i dag kl. 19:00"),
        (_at(24, "19:00"), "tomorrow at 19:00", "i morgon kl. 19:00"),
        (_at(27, "18:30"), "on Friday at 18:30", "på fredag kl. 18:30"),
        (_at(7, "19:00", month=12), "on Mon 7 Dec at 19:00", "mån 7 dec kl. 19:00"),
    ],
)
def test_short_when(at: datetime, english: str, swedish: str) -> None:
    assert _both(short_when(at, NOW, ZONE)) == (english, swedish)


def test_booked_a_table() -> None:
    booking = _booking(LUIGIS, _at(24, "19:00"), "LT-4F2K", party=4)
    reply = _booked(booking, LUIGIS, NOW, ZONE)
    assert _both(reply) == (
        "Booked: a table for 4 at Luigi's Trattoria tomorrow at 19:00. Your reference is LT-4F2K.",
        "Jag har bokat ett bord för 4 på Luigi's Trattoria i morgon kl. 19:00. "
        "Ditt bokningsnummer är LT-4F2K.",
    )
    assert localize(reply, "sv")[0] == reply.sv
    assert localize(reply, "sv")[1] == "sv"
    assert localize(reply, "en")[0] == str(reply)


def test_booked_an_appointment() -> None:
    booking = _booking(BELLA, _at(27, "10:00"), "BH-7Q2M", service="haircut")
    assert _both(_booked(booking, BELLA, NOW, ZONE)) == (
        "Booked: a haircut at Bella Hair Salon on Friday at 10:00. Your reference is BH-7Q2M.",
        "Jag har bokat en tid för haircut på Bella Hair Salon på fredag kl. 10:00. "
        "Ditt bokningsnummer är BH-7Q2M.",
    )


def test_full_with_times_the_same_day() -> None:
    start = _at(24, "10:00")
    full = Full(
        Wish(BELLA, start, start + timedelta(minutes=45), 1, "haircut"), [_at(24, "09:00"), _at(24, "11:00")]
    )
    reply = _not_free(full, NOW, ZONE)
    assert _both(reply) == (
        "Sorry, Bella Hair Salon is full tomorrow at 10:00. Would 09:00 or 11:00 suit you?",
        "Tyvärr är det fullbokat på Bella Hair Salon i morgon kl. 10:00. "
        "Skulle det passa kl. 09:00 eller kl. 11:00?",
    )
    assert localize(reply, "sv") == (reply.sv, "sv")


def test_closed_with_times_on_other_days() -> None:
    start = _at(24, "23:30")
    full = Full(
        Wish(LUIGIS, start, start + timedelta(hours=2), 2, None), [_at(25, "21:00"), _at(7, "21:00", 12)]
    )
    assert _both(_not_free(full, NOW, ZONE)) == (
        "Sorry, Luigi's Trattoria is closed tomorrow at 23:30. "
        "Would Wednesday at 21:00 or Mon 7 Dec at 21:00 suit you?",
        "Tyvärr har Luigi's Trattoria stängt i morgon kl. 23:30. "
        "Skulle det passa på onsdag kl. 21:00 eller mån 7 dec kl. 21:00?",
    )


def test_closing_too_early_and_no_other_time() -> None:
    start = _at(24, "22:00")
    full = Full(Wish(LUIGIS, start, start + timedelta(hours=2), 2, None), [])
    assert _both(_not_free(full, NOW, ZONE)) == (
        "Sorry, Luigi's Trattoria closes too early for a booking tomorrow at 22:00. "
        "Would another day or time suit you?",
        "Tyvärr stänger Luigi's Trattoria för tidigt för en bokning i morgon kl. 22:00. "
        "Skulle en annan dag eller tid passa?",
    )


def test_cancelled() -> None:
    booking = _booking(LUIGIS, _at(27, "19:00"), "LT-4F2K", party=2)
    assert _both(_cancelled(booking, LUIGIS, NOW, ZONE)) == (
        "Cancelled: a table for 2 at Luigi's Trattoria on Friday at 19:00.",
        "Jag har avbokat ett bord för 2 på Luigi's Trattoria på fredag kl. 19:00.",
    )


def _two() -> tuple[list[Booking], dict[uuid.UUID, Venue]]:
    found = [
        _booking(LUIGIS, _at(24, "19:00"), "LT-4F2K", party=4),
        _booking(BELLA, _at(27, "10:00"), "BH-7Q2M", service="haircut"),
    ]
    return found, {LUIGIS.id: LUIGIS, BELLA.id: BELLA}


def test_status_lists_two_bookings() -> None:
    found, venues = _two()
    reply = _you_have(found, venues, NOW, ZONE)
    assert _both(reply) == (
        "You have 2 bookings: a table for 4 at Luigi's Trattoria tomorrow at 19:00 (reference LT-4F2K) "
        "and a haircut at Bella Hair Salon on Friday at 10:00 (reference BH-7Q2M).",
        "Du har 2 bokningar: ett bord för 4 på Luigi's Trattoria i morgon kl. 19:00 (bokningsnummer LT-4F2K) "
        "och en tid för haircut på Bella Hair Salon på fredag kl. 10:00 (bokningsnummer BH-7Q2M).",
    )
    assert localize(reply, "sv")[0] == reply.sv


def test_status_with_one_booking() -> None:
    found, venues = _two()
    assert _both(_you_have(found[:1], venues, NOW, ZONE)) == (
        "You have a table for 4 at Luigi's Trattoria tomorrow at 19:00 (reference LT-4F2K).",
        "Du har ett bord för 4 på Luigi's Trattoria i morgon kl. 19:00 (bokningsnummer LT-4F2K).",
    )


def test_which_booking_to_cancel() -> None:
    found, venues = _two()
    asked = _which(found, venues, NOW, ZONE, "cancel")
    assert _both(asked.reply) == (
        "Which booking should I cancel: a table for 4 at Luigi's Trattoria tomorrow at 19:00 "
        "(reference LT-4F2K) or a haircut at Bella Hair Salon on Friday at 10:00 (reference BH-7Q2M)?",
        "Vilken bokning ska jag avboka: ett bord för 4 på Luigi's Trattoria i morgon kl. 19:00 "
        "(bokningsnummer LT-4F2K) eller en tid för haircut på Bella Hair Salon på fredag kl. 10:00 "
        "(bokningsnummer BH-7Q2M)?",
    )
    assert asked.result == {"ask": "booking_ref", "choices": ["LT-4F2K", "BH-7Q2M"]}
    assert asked.reply is not None and localize(asked.reply, "sv")[0].startswith(
        "Vilken bokning ska jag avboka:"
    )


def test_questions_about_the_venue() -> None:
    assert _both(_did_you_mean(["Luigi's Trattoria", "Golden Dragon"])) == (
        "Did you mean Luigi's Trattoria or Golden Dragon?",
        "Menade du Luigi's Trattoria eller Golden Dragon?",
    )
    assert _both(_which_venue(True, ["Luigi's Trattoria", "Golden Dragon"])) == (
        "Which restaurant would you like? I know Luigi's Trattoria and Golden Dragon.",
        "Vilken restaurang vill du boka? Jag kan boka hos Luigi's Trattoria och Golden Dragon.",
    )
    assert _both(_which_venue(False, [])) == (
        "Where would you like the appointment?",
        "Var vill du boka tiden?",
    )
    assert _both(_too_many(LUIGIS)) == (
        "The largest table at Luigi's Trattoria seats 8. For how many people?",
        "Det största bordet på Luigi's Trattoria har plats för 8. Hur många blir ni?",
    )


def test_services_offered() -> None:
    dental = VENUES["Riverside Dental"]
    assert _both(_services_offered(dental)) == (
        "Riverside Dental offers a check-up (30 min) or a cleaning (45 min). Which would you like?",
        "Hos Riverside Dental kan du boka en tid för check-up (30 min) eller en tid för cleaning (45 min). "
        "Vilken vill du ha?",
    )


def test_read_back_carries_its_swedish() -> None:
    booking = _booking(LUIGIS, _at(24, "19:00"), "LT-4F2K", party=4)
    english, swedish = _both(_read_back(booking, LUIGIS, NOW, ZONE))
    assert english == "Book a table for 4 at Luigi's Trattoria, tomorrow (Tue 24 Nov) at 19:00?"
    assert swedish.startswith("Boka ett bord för 4 på Luigi's Trattoria")
