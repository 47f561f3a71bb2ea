"""The local time-expression resolver: every hand-written eval case, plus the rules that matter most
spelled out (DST, "next Tuesday at 3", "a week from today", bare hours, spans)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from dateutil.rrule import rrulestr

from domain.timeexpr import TimeExpr, resolve
from eval.timeexpr import evaluate, load_cases, mismatches, rrule_parts, run_case

STOCKHOLM = "Europe/Stockholm"
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(STOCKHOLM))  # Tuesday 24 November 2026
CASES = load_cases()


def _id(case: dict[str, Any]) -> str:
    return f"{case['text'][:60]}@{case['now'][:16]}"


def _at(text: str, now: datetime = TUESDAY_10, zone: str = STOCKHOLM) -> TimeExpr:
    result = resolve(text, now, zone)
    assert result is not None, text
    return result


def _local(text: str, now: datetime = TUESDAY_10, zone: str = STOCKHOLM) -> str:
    """The start as local 'YYYY-MM-DD HH:MM' in the person's zone."""
    start = _at(text, now, zone).start
    assert start is not None
    return start.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


# -- the eval set, one test per case -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_eval_case(case: dict[str, Any]) -> None:
    result = run_case(case)
    assert mismatches(case, result) == []
    if result is not None:
        assert case["text"][result.span[0] : result.span[1]] == result.text
        assert result.text.strip() == result.text and result.text


@pytest.mark.parametrize("case", [c for c in CASES if c["start"] is not None], ids=_id)
def test_results_are_in_the_persons_zone(case: dict[str, Any]) -> None:
    result = run_case(case)
    assert result is not None and result.start is not None
    assert result.start.tzinfo == ZoneInfo(case["timezone"])


@pytest.mark.parametrize("case", [c for c in CASES if c["recurrence"]], ids=_id)
def test_recurrences_expand_with_dateutil_from_their_start(case: dict[str, Any]) -> None:
    """The scheduler expands our RRULE with dateutil, DTSTART = start: the first occurrence must be start
    itself (except where DST moved a non-existent start), and later ones keep the wall-clock time."""
    result = run_case(case)
    assert result is not None and result.start is not None and result.recurrence is not None
    occurrences = list(rrulestr(result.recurrence, dtstart=result.start)[:3])
    count = re.search(r"COUNT=(\d+)", result.recurrence)
    assert len(occurrences) == min(3, int(count[1]) if count else 3)
    local = result.start.replace(tzinfo=None)
    exists = result.start.astimezone(UTC).astimezone(result.start.tzinfo).replace(tzinfo=None) == local
    if "BYHOUR" not in result.recurrence or local.hour in _byhour(result.recurrence):
        assert occurrences[0] == result.start and exists
    if "BYHOUR" in result.recurrence:
        assert all(o.hour in _byhour(result.recurrence) for o in occurrences[1:])


def _byhour(rule: str) -> set[int]:
    parts = dict(part.split("=") for part in rule.split(";"))
    return {int(h) for h in parts["BYHOUR"].split(",")}


def test_the_whole_eval_set_passes() -> None:
    outcome = evaluate()
    assert outcome.total == len(CASES) >= 80
    assert outcome.failures == []
    assert outcome.correct == outcome.total


def test_the_eval_set_covers_what_it_should() -> None:
    zones = {c["timezone"] for c in CASES}
    assert {"Europe/Stockholm", "America/New_York", "UTC", "Asia/Tokyo"} <= zones
    assert sum(c["start"] is None for c in CASES) >= 8
    assert sum(bool(c["recurrence"]) for c in CASES) >= 15
    assert sum(bool(c["date_only"]) for c in CASES) >= 10


def test_rrule_comparison_ignores_order() -> None:
    assert rrule_parts("FREQ=WEEKLY;BYDAY=TH,MO;BYMINUTE=0;BYHOUR=10") == rrule_parts(
        "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10;BYMINUTE=0"
    )
    assert rrule_parts("FREQ=DAILY;BYHOUR=8") != rrule_parts("FREQ=DAILY;BYHOUR=20")


# -- DST -----------------------------------------------------------------------------------------------


def test_a_time_that_does_not_exist_moves_forward() -> None:
    """Stockholm springs forward at 02:00 on 29 March 2026: 02:30 does not exist, 03:30 CEST is meant."""
    now = datetime(2026, 3, 28, 10, 0, tzinfo=ZoneInfo(STOCKHOLM))
    start = _at("tomorrow at 2:30 am", now).start
    assert start is not None
    assert start.isoformat() == "2026-03-29T03:30:00+02:00"


def test_a_repeated_time_is_the_first_one() -> None:
    """Stockholm falls back at 03:00 on 25 October 2026: 02:30 happens twice; the first is CEST."""
    now = datetime(2026, 10, 24, 10, 0, tzinfo=ZoneInfo(STOCKHOLM))
    start = _at("tomorrow at 2:30 am", now).start
    assert start is not None
    assert start.isoformat() == "2026-10-25T02:30:00+02:00"
    assert start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_recurrence_keeps_its_wall_clock_time_across_dst() -> None:
    now = datetime(2026, 3, 28, 10, 0, tzinfo=ZoneInfo(STOCKHOLM))
    result = _at("every morning at 8", now)
    assert result.recurrence == "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"
    assert result.start is not None
    assert result.start.isoformat() == "2026-03-29T08:00:00+02:00"
    nxt = list(rrulestr(result.recurrence, dtstart=result.start)[:2])[1]
    assert (nxt.hour, nxt.utcoffset()) == (8, timedelta(hours=2))


def test_offsets_are_elapsed_time_across_dst() -> None:
    """Two hours after 01:00 CET on the spring-forward night is 04:00 CEST (02:00 to 03:00 never was)."""
    now = datetime(2026, 3, 29, 1, 0, tzinfo=ZoneInfo(STOCKHOLM))
    start = _at("in two hours", now).start
    assert start is not None
    assert start.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=2)  # same-zone "-" is wall clock
    assert start.isoformat() == "2026-03-29T04:00:00+02:00"


def test_days_are_calendar_days_across_dst() -> None:
    """A named day is a calendar day: "tomorrow at 9" is 09:00 local the next day, 23 hours away on the
    spring-forward night."""
    now = datetime(2026, 3, 28, 9, 0, tzinfo=ZoneInfo(STOCKHOLM))
    assert _local("tomorrow at 9 am", now) == "2026-03-29 09:00"


# -- "next Tuesday at 3" ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said_on", "expected"),
    [
        ("2026-11-23", "2026-12-01 15:00"),  # Monday: not tomorrow, the Tuesday of next week
        ("2026-11-24", "2026-12-01 15:00"),  # Tuesday
        ("2026-11-25", "2026-12-01 15:00"),  # Wednesday
        ("2026-11-29", "2026-12-01 15:00"),  # Sunday: next week starts tomorrow
        ("2026-11-30", "2026-12-08 15:00"),  # Monday again
    ],
)
def test_next_tuesday_at_3(said_on: str, expected: str) -> None:
    now = datetime.fromisoformat(said_on + "T10:00:00").replace(tzinfo=ZoneInfo(STOCKHOLM))
    result = _at("can I see the dentist next Tuesday at 3", now)
    assert result.start is not None
    assert result.start.strftime("%Y-%m-%d %H:%M") == expected
    assert result.text == "next Tuesday at 3"
    assert not result.date_only


def test_weekday_words() -> None:
    assert _local("on Tuesday") == "2026-12-01 00:00"  # said on a Tuesday: a week away
    assert _local("this Tuesday") == "2026-11-24 00:00"
    assert _local("on Friday") == "2026-11-27 00:00"
    assert _local("next Friday") == "2026-12-04 00:00"  # the Friday of next week
    assert _local("Friday next week") == "2026-12-04 00:00"
    assert _local("last Monday") == "2026-11-23 00:00"
    assert _local("on wensday at 11") == "2026-11-25 11:00"  # typo


# -- "a week from today" ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hour", [0, 9, 23])
@pytest.mark.parametrize("zone", [STOCKHOLM, "America/New_York", "Asia/Tokyo", "UTC"])
def test_a_week_from_today_is_in_the_future(hour: int, zone: str) -> None:
    now = datetime(2026, 11, 24, hour, 30, tzinfo=ZoneInfo(zone))
    result = _at("a week from today", now, zone)
    assert result.start is not None and result.start > now
    assert result.date_only
    assert result.start.date() == now.date() + timedelta(days=7)
    assert (result.start.hour, result.start.minute) == (0, 0)


def test_a_week_from_tomorrow_and_in_n_days() -> None:
    assert _local("a week from tomorrow") == "2026-12-02 00:00"
    assert _local("in 3 days") == "2026-11-27 00:00"
    assert _local("in two weeks") == "2026-12-08 00:00"
    assert _local("next week") == "2026-11-30 00:00"  # Monday of next week


# -- bare hours ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "now_hour", "expected"),
    [
        ("at 7", 10, "2026-11-24 19:00"),  # 07:00 has passed; 19:00 is in the 07-22 window
        ("at 7", 6, "2026-11-24 07:00"),  # 07:00 is still ahead
        ("at 7", 20, "2026-11-25 07:00"),  # both passed: tomorrow morning
        ("at 9", 21, "2026-11-25 09:00"),
        ("at 10:30", 11, "2026-11-25 10:30"),  # 22:30 is outside the window
        ("at 11", 12, "2026-11-25 11:00"),  # 23:00 is outside the window
        ("at 3", 10, "2026-11-24 15:00"),  # 1-6 mean the afternoon
        ("at 3", 16, "2026-11-25 15:00"),  # ... even when 15:00 has passed
        ("at 6", 5, "2026-11-24 18:00"),
        ("at 12", 10, "2026-11-24 12:00"),
        ("at 8 in the morning", 10, "2026-11-25 08:00"),
        ("tomorrow morning at 8", 10, "2026-11-25 08:00"),
        ("at 9 pm", 10, "2026-11-24 21:00"),
        ("at 9am", 10, "2026-11-25 09:00"),
        ("at 6 in the morning", 10, "2026-11-25 06:00"),
        ("wake me at 6", 10, "2026-11-25 06:00"),  # waking up is a morning thing
        ("tomorrow at 7", 10, "2026-11-25 07:00"),  # a named day: its first time in the window
        ("book a table tomorrow at 7", 10, "2026-11-25 19:00"),  # a table: evening first
        ("lunch tomorrow at 1", 10, "2026-11-25 13:00"),
        ("for lunch at 11", 10, "2026-11-24 11:00"),  # a meal outranks "table"-like context
        ("tonight at 11", 10, "2026-11-24 23:00"),
        ("tonight at 12", 10, "2026-11-25 00:00"),
        ("at 19:30", 10, "2026-11-24 19:30"),
        ("at 07:30", 10, "2026-11-25 07:30"),  # a leading zero is 24-hour notation
    ],
)
def test_bare_hours(text: str, now_hour: int, expected: str) -> None:
    now = TUESDAY_10.replace(hour=now_hour)
    assert _local(text, now) == expected


def test_a_recurring_hour_is_a_time_of_day_not_the_next_occurrence() -> None:
    result = _at("every day at 8")  # said at 10:00: 08:00 daily, not 20:00
    assert result.recurrence == "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"
    assert _at("every evening at 8").recurrence == "FREQ=DAILY;BYHOUR=20;BYMINUTE=0"
    assert _at("every day at 3").recurrence == "FREQ=DAILY;BYHOUR=15;BYMINUTE=0"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # each time is read by the part of day said right by it, not by the message's first one
        ("take my pills at 9 each morning and 9 at night", "FREQ=DAILY;BYHOUR=9,21;BYMINUTE=0"),
        ("every day at 9 and at 9 at night", "FREQ=DAILY;BYHOUR=9,21;BYMINUTE=0"),
        ("every morning at 8 and every evening at 6", "FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0"),
        ("every morning at 8 and every night at 10", "FREQ=DAILY;BYHOUR=8,22;BYMINUTE=0"),
        ("at eight in the morning and six in the evening every day", "FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0"),
        ("every evening, take my pills at 7", "FREQ=DAILY;BYHOUR=19;BYMINUTE=0"),
        # parts of day listed with "and" are times of their own
        ("at breakfast and at dinner every day", "FREQ=DAILY;BYHOUR=8,19;BYMINUTE=0"),
        ("every morning and evening", "FREQ=DAILY;BYHOUR=9,19;BYMINUTE=0"),
        ("with breakfast and with tea every day", "FREQ=DAILY;BYHOUR=8,17;BYMINUTE=0"),  # tea: the meal
        ("every morning at 8 and every evening", "FREQ=DAILY;BYHOUR=8,19;BYMINUTE=0"),
        ("take 1 tablet in the morning and 1 at night every day", "FREQ=DAILY;BYHOUR=9,20;BYMINUTE=0"),
        # ... but not when said apart, or side by side
        ("every morning, and tell my daughter in the evening if i forget", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"),
        ("every morning to take my pills at 8", "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"),
        ("every night before bed", "FREQ=DAILY;BYHOUR=20;BYMINUTE=0"),
        # times whose minutes differ keep each its own minute
        ("at 8am and 6:30pm every day", "FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4"),
        ("daily at 7:15, 13:00 and 19:45", "FREQ=DAILY;BYHOUR=7,13,19;BYMINUTE=0,15,45;BYSETPOS=2,4,9"),
        (
            "every monday and thursday at 8am and 6:30pm",
            "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4,5,8",
        ),
    ],
)
def test_several_times_a_day_are_each_kept(text: str, rule: str) -> None:
    result = _at(text)
    assert result.recurrence == rule
    assert result.start is not None
    start = result.start.replace(tzinfo=None)
    week = rrulestr(rule, dtstart=start).between(start, start + timedelta(days=7), inc=True)
    assert week[0] == start  # the scheduler's first firing is the start the read-back says


def test_tea_is_a_time_only_when_said_as_a_meal() -> None:
    assert _local("remind me at teatime to ring my sister") == "2026-11-24 17:00"
    assert _at("remind me to buy tea tomorrow").date_only


def test_times_with_different_minutes_fire_at_exactly_those_times() -> None:
    result = _at("remind me at 8am and 6:30pm every day to take my insulin")
    assert result.recurrence is not None and result.start is not None
    start = result.start.replace(tzinfo=None)
    day = rrulestr(result.recurrence, dtstart=start).between(start, start + timedelta(days=2), inc=True)
    assert [f"{o:%a %H:%M}" for o in day] == ["Tue 18:30", "Wed 08:00", "Wed 18:30", "Thu 08:00", "Thu 18:30"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("take 2 in the morning and 2 at night", "2026-11-24 20:00"),  # "2" is a dose: no 02:00 or 14:00
        ("book a table for 6 in the evening", "2026-11-24 19:00"),  # a party, not 18:00
        ("tomorrow at 9 and 9 at night", "2026-11-25 09:00"),  # a one-off takes the first time
    ],
)
def test_a_bare_number_before_a_part_of_day_is_a_time_only_in_a_list(text: str, expected: str) -> None:
    assert _local(text) == expected


def test_clock_words() -> None:
    assert _local("at half past six") == "2026-11-24 18:30"
    assert _local("at quarter to eight") == "2026-11-24 19:45"
    assert _local("at quarter past 8 am") == "2026-11-25 08:15"
    assert _local("at ten to nine") == "2026-11-24 20:50"
    assert _local("at noon") == "2026-11-24 12:00"
    assert _local("at midnight") == "2026-11-25 00:00"
    assert _local("at eight thirty") == "2026-11-24 20:30"
    assert _local("at 7 o'clock") == "2026-11-24 19:00"
    assert _local("at 7.30 pm") == "2026-11-24 19:30"


# -- spans -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("book a table for four at Luigi's tomorrow at seven", "tomorrow at seven"),
        ("remind me to take my heart pills every morning at eight", "every morning at eight"),
        ("call my daughter in two hours", "in two hours"),
        ("remind me on the first of the month to pay the milkman", "on the first of the month"),
        ("remind me on the 24th of December at 10 am to call my cousin", "on the 24th of December at 10 am"),
        (
            "remind me tomorrow morning at quarter to eight, the taxi is coming",
            "tomorrow morning at quarter to eight",
        ),
        ("book a table for two for dinner tomorrow", "for dinner tomorrow"),
        ("we play bridge on Thursday from 7 to 9 in the evening", "on Thursday from 7 to 9 in the evening"),
        ("Remind me AT 7PM to call Åsa", "AT 7PM"),
    ],
)
def test_span_is_the_time_words(text: str, said: str) -> None:
    result = _at(text)
    assert result.text == said
    assert text[result.span[0] : result.span[1]] == said


def test_scattered_time_words_count_but_the_span_is_the_largest_group() -> None:
    result = _at("tomorrow I must call Bo at 5")
    assert result.start is not None
    assert result.start.strftime("%Y-%m-%d %H:%M") == "2026-11-25 17:00"
    assert result.text in ("tomorrow", "at 5")


# -- what is not a time, and contracts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "book a table for 7 at the Golden Dragon",
        "around 7 people will come",
        "my grandson is seven years old",
        "cancel my booking at Four Seasons",
        "good morning, can you call my daughter",
        "the price is 7.30",
        "remind me about the gas bill on 12/24",
        "I have a tumor check",
        "the 3rd floor nurse",
        "I need 2 tablets",
    ],
)
def test_no_time_expression(text: str) -> None:
    assert resolve(text, TUESDAY_10, STOCKHOLM) is None


def test_yesterday_is_returned_as_stated() -> None:
    result = _at("did I take my pills yesterday")
    assert result.start is not None and result.start < TUESDAY_10
    assert result.start.strftime("%Y-%m-%d") == "2026-11-23" and result.date_only


def test_now_may_be_in_any_zone() -> None:
    """Now is 16:00 UTC = 01:00 Wednesday in Tokyo: 'tomorrow' there is Thursday."""
    now_utc = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert _local("tomorrow at 9", now_utc, "Asia/Tokyo") == "2026-11-26 09:00"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        resolve("at 7", datetime(2026, 11, 24, 10, 0), STOCKHOLM)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        resolve("at 7", TUESDAY_10, "Mars/Olympus_Mons")


def test_recurrences_always_start_after_now() -> None:
    result = _at("every 2 hours from 8 am")  # 08:00 has passed at 10:00: 10:00 is not after now either
    assert result.recurrence == "FREQ=HOURLY;INTERVAL=2"
    assert result.start is not None and result.start.strftime("%Y-%m-%d %H:%M") == "2026-11-24 12:00"
    assert _local("every day at 8 starting next monday") == "2026-11-30 08:00"


_FUZZ_WORDS = str.split(
    "at on in the every each next this last tomorrow today tonight yesterday morning evening night monday "
    "wed thurs sat mondays weekday weekend week month year day days hours minutes half quarter past to from "
    "between and until noon midnight 7 9 12 0 13 24 99 7:30 19:45 7.30 2026-12-24 2026-02-30 9999-12-31 am "
    "pm o'clock twice three times a other second 1st 31st third march may feb of for dinner lunch bed table "
    "wake good , - 9pm 7-9pm 12/24 couple an fortnight daily hourly starting 99999999999999999999"
)


def test_any_jumble_of_time_words_resolves_without_error() -> None:
    """Garbage in must never raise: None or a consistent answer (span, zone, future recurrences)."""
    import random

    rng = random.Random(20261124)
    zones = [STOCKHOLM, "America/New_York", "UTC", "Asia/Tokyo", "Australia/Lord_Howe", "America/Santiago"]
    for _ in range(3000):
        text = " ".join(rng.choice(_FUZZ_WORDS) for _ in range(rng.randint(1, 8)))
        zone = rng.choice(zones)
        now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 730))
        result = resolve(text, now, zone)
        if result is None:
            continue
        assert text[result.span[0] : result.span[1]] == result.text, text
        assert result.start is not None and result.start.tzinfo == ZoneInfo(zone), text
        if result.recurrence:
            assert result.start > now, text
            assert list(rrulestr(result.recurrence, dtstart=result.start)[:2]), text


def test_deterministic() -> None:
    for case in CASES:
        assert run_case(case) == run_case(case)


def test_long_input_does_not_backtrack() -> None:
    """A guard against catastrophic regex backtracking, not a speed target (those are in
    `make bench`): 13,000 characters resolve in linear time, far below this generous bound."""
    started = time.perf_counter()
    found = resolve("call my son " * 1000 + "tomorrow at 5", TUESDAY_10, STOCKHOLM)
    assert time.perf_counter() - started < 5.0
    assert found is not None


@pytest.mark.parametrize(
    ("text", "rule", "first"),
    [
        (
            "remind me to take my inhaler morning and night",
            "FREQ=DAILY;BYHOUR=9,20;BYMINUTE=0",
            "2026-11-24 20:00",
        ),
        (
            "take my pills in the morning and at night",
            "FREQ=DAILY;BYHOUR=9,20;BYMINUTE=0",
            "2026-11-24 20:00",
        ),
        ("my tablets at breakfast and at dinner", "FREQ=DAILY;BYHOUR=8,19;BYMINUTE=0", "2026-11-24 19:00"),
        ("take 2 in the morning and 2 at night", "FREQ=DAILY;BYHOUR=9,20;BYMINUTE=0", "2026-11-24 20:00"),
        (
            "remind me at 8 and at night to take my tablets",
            "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0",
            "2026-11-24 20:00",
        ),
    ],
)
def test_parts_of_the_day_listed_with_no_day_said_are_every_day(text: str, rule: str, first: str) -> None:
    """One start could keep only the first time, and a dose would be dropped without a word."""
    result = _at(text)
    assert result.recurrence == rule
    assert _local(text) == first


@pytest.mark.parametrize(
    ("text", "rule", "first"),
    [
        ("tomorrow morning and evening", "FREQ=DAILY;COUNT=2;BYHOUR=9,19;BYMINUTE=0", "2026-11-25 09:00"),
        (
            "on saturday at breakfast and at dinner",
            "FREQ=DAILY;COUNT=2;BYHOUR=8,19;BYMINUTE=0",
            "2026-11-28 08:00",
        ),
        ("tomorrow at 8 and at night", "FREQ=DAILY;COUNT=2;BYHOUR=8,20;BYMINUTE=0", "2026-11-25 08:00"),
    ],
)
def test_parts_of_the_day_listed_on_a_day_said_are_each_kept_that_day(
    text: str, rule: str, first: str
) -> None:
    result = _at(text)
    assert result.recurrence == rule
    assert _local(text) == first
    assert result.start is not None
    start = result.start.astimezone(ZoneInfo(STOCKHOLM)).replace(tzinfo=None)
    occurrences = list(rrulestr(rule, dtstart=start))
    assert len(occurrences) == 2 and occurrences[0].date() == occurrences[1].date()


def test_a_listed_time_already_past_today_is_left_out() -> None:
    """Said at 10:00: "this morning" is gone, so only tonight is kept, as a one-off."""
    result = _at("remind me this morning and tonight")
    assert result.recurrence is None
    assert _local("remind me this morning and tonight") == "2026-11-24 20:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("remind me in the morning to call the bank", "2026-11-25 09:00"),  # one part: once
        ("every night before bed", "2026-11-24 20:00"),  # side by side: one time
        ("at 8 and at 6", "2026-11-24 20:00"),  # clocks alone list no part: the first clock, once
    ],
)
def test_a_single_time_or_bare_clocks_stay_as_they_were(text: str, expected: str) -> None:
    assert _local(text) == expected
