"""Time expressions in a person's message, resolved to instants in their time zone (the local parser's rule).

``resolve("book a table at Luigi's tomorrow at seven", now, "Europe/Stockholm")`` finds the words that say
*when*, and turns them into an aware datetime (and an RFC 5545 RRULE for "every morning at eight"). It is
rules only: precompiled regular expressions and calendar arithmetic from the standard library, so it is
fast (about 0.2 ms a message), deterministic and offline. No dateparser (it misreads "next Tuesday at 3"
and "a week from today") and no dateutil at run time (the scheduler expands our RRULE with it).

Choices a careful reader might make differently, made on purpose and kept in one place:

* Bare hours. 1-6 without am/pm mean afternoon (13:00-18:00); 12 means noon. 7-11 are ambiguous: the
  candidates are the morning and the evening time, kept only if between 07:00 and 22:00, tried in order
  (morning first) and the first one still ahead wins -- "at 7" said at 10:00 is 19:00 today, "tomorrow at
  9" is 09:00. Words nearby settle it: a part of day ("tomorrow morning at 8", "tonight at 11"), a meal
  ("for lunch at 11", "for dinner at 7"), "wake me" (morning), or, failing those, an evening activity
  anywhere in the message (table, restaurant, dinner, theatre...) puts the evening time first. In a
  recurrence ("every day at 8") the hour is a time of day for ever, not "the next 8 o'clock", so 7-11
  mean the morning.
* Parts of the day alone: morning 09:00, afternoon 15:00, evening 19:00, night and tonight 20:00,
  breakfast 08:00, brunch 11:00, lunch 12:00, tea (the early evening meal) 17:00, dinner and supper
  19:00, bedtime 21:00. They are times, so ``date_only`` stays False.
* Days. A weekday alone ("on Friday") is the next one after today (said on a Friday it is a week
  away); "this Friday" may be today; "next Tuesday" is the Tuesday of next week (weeks start on Monday,
  so said on a Sunday "next Monday" is tomorrow). "next week" is next Monday, "next month" the 1st,
  "this weekend" the coming Saturday (today on a weekend day). "the 12th" is the next 12th, today
  included; "March 3rd" without a year is this year's unless already past. Numeric dates other than ISO
  (12/24) are skipped: month and day order cannot be known.
* Past times are returned as stated -- "yesterday", "this morning" said at noon, "tonight" said at 23:00:
  the caller decides what to ask. A time with no day ("at 7pm", "in the evening") is the next such time.
* A day without a time of day gives its local midnight with ``date_only`` True, so the caller can ask
  "At what time?". A recurrence without a time starts on the first matching day after today.
* Recurrences: ``start`` is the first occurrence strictly after ``now``. BYHOUR/BYMINUTE are local wall
  clock in the person's zone and stay so across DST changes; the scheduler must expand the rule with
  dateutil in that zone (DTSTART = ``start``). "every 2 hours" runs from ``now`` (first one at now + 2h).
* DST: wall times are built with ZoneInfo; a time that does not exist (02:30 on a spring-forward night) is
  moved forward by the gap (03:30), a repeated one (autumn) is the first of the two. Offsets ("in two
  hours") are exact elapsed time.
* One span: when the words that say when are scattered ("tomorrow I must call Bo at 5"), all of them
  count for the value but ``text``/``span`` cover only the largest adjacent group.
* Several times a day ("at 9 each morning and 9 at night", "at breakfast and at dinner"): each clock
  time is read by the part of day said right by it, and parts of day listed with "and" are times of
  their own. Times whose minutes differ ("at 8am and 6:30pm") are one RRULE with BYSETPOS.
* Known limits: "at 7" before a street name is still read as a time; holidays ("Christmas"),
  "twice a week" and vague amounts ("in a few days") are not understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["TimeExpr", "part_of_day_hour", "resolve"]


@dataclass(frozen=True, slots=True)
class TimeExpr:
    """When a message says something should happen."""

    start: datetime | None
    """Aware, in the person's zone; the first occurrence for recurrences; local midnight when date_only."""
    end: datetime | None
    """For ranges ("from 7 to 9"), else None."""
    recurrence: str | None
    """RFC 5545 RRULE body without "RRULE:", e.g. "FREQ=DAILY;BYHOUR=8;BYMINUTE=0" (local wall clock)."""
    text: str
    """The words that said when, so the caller can strip them from 'what'."""
    span: tuple[int, int]
    """Offsets of ``text`` in the original message."""
    date_only: bool
    """A day was given but no time of day: the caller should ask "At what time?"."""


Cue = Literal["morning", "midday", "afternoon", "evening"]

# --------------------------------------------------------------------------------------------------
# What the patterns find (payloads of hits)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    """A time of day. Unfixed hours are 1-12 and still to be read as morning or evening."""

    hour: int  # 0-23; 24 is midnight at the end of the day
    minute: int
    fixed: bool  # am/pm, 24-hour notation, noon or midnight: nothing to guess


@dataclass(frozen=True, slots=True)
class _Day:
    """A calendar day, and how it was named (recurrences use the name: "every week on Tuesday")."""

    day: date
    weekday: int | None = None
    month: int | None = None
    monthday: int | None = None


@dataclass(frozen=True, slots=True)
class _Part:
    """A part of the day or a meal: a default time and a hint for ambiguous hours."""

    hour: int
    cue: Cue
    day: date | None = None  # "tonight", "this morning" name the day too


@dataclass(frozen=True, slots=True)
class _Offset:
    delta: timedelta


@dataclass(frozen=True, slots=True)
class _Recur:
    freq: str
    interval: int = 1
    byday: tuple[int, ...] = ()
    bymonth: int | None = None
    bymonthday: int | None = None
    hours: tuple[int, ...] = ()  # "twice a day"
    part: _Part | None = None  # "every morning"
    count: int | None = None  # "tomorrow morning and evening": the rule ends after these


@dataclass(frozen=True, slots=True)
class _Range:
    first: _Clock
    last: _Clock


_Payload = _Clock | _Day | _Part | _Offset | _Recur | _Range


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    rank: int  # the rule's position: breaks ties between equally long matches
    payload: _Payload


# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------

_FLAGS = re.IGNORECASE
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen")  # fmt: skip
_NUMBER_VALUES: dict[str, int] = {
    **{w: i + 1 for i, w in enumerate(_UNITS)},
    **{w: i + 10 for i, w in enumerate(_TEENS)},
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
    "o": 0, "oh": 0, "a": 1, "an": 1,
}  # fmt: skip
_ORDINAL_VALUES: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30, "twenty": 20, "thirty": 30,
}  # fmt: skip
_WEEKDAY_TOKENS: dict[str, int] = {
    "monday": 0, "mon": 0, "mondy": 0, "monady": 0,
    "tuesday": 1, "tues": 1, "tue": 1, "tuseday": 1, "teusday": 1, "tusday": 1, "tuesdy": 1,
    "wednesday": 2, "wed": 2, "weds": 2, "wensday": 2, "wendsday": 2, "wednsday": 2, "wedensday": 2,
    "wednesay": 2, "wedsday": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "thursay": 3, "thurday": 3, "thrusday": 3,
    "friday": 4, "fri": 4, "firday": 4, "fridy": 4,
    "saturday": 5, "sat": 5, "saterday": 5, "satruday": 5, "saturady": 5,
    "sunday": 6, "sun": 6, "sundy": 6,
}  # fmt: skip
_AMBIGUOUS_WEEKDAYS = frozenset({"mon", "sat", "sun"})  # English words too: need "on", "every"...
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first, so "tues" is not read as "tue"."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_UNIT_RE = _alternation(_UNITS)
_HOUR_WORD = r"(?:twelve|eleven|ten|nine|eight|seven|six|five|four|three|two|one)"
_MINUTE_WORD = (
    rf"(?:(?:twenty|thirty|fou?rty|fifty)(?:[\s-]?(?:{_UNIT_RE}))?|{_alternation(_TEENS)}"
    rf"|(?:o|oh)[\s-](?:{_UNIT_RE}))"
)
_NUMBER_WORD = rf"(?:{_MINUTE_WORD}|sixty|ninety|{_UNIT_RE})"
_AMOUNT = rf"(?:\d+(?:\.\d+)?|a\s+couple\s+of|couple\s+of|{_NUMBER_WORD}|an?)(?:\s+and\s+a\s+half)?"
_ORDINAL_WORD = (
    r"(?:(?:twenty|thirty)[\s-]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
    + _alternation(k for k in _ORDINAL_VALUES if k not in {"twenty", "thirty"})
    + ")"
)
_DAY_NUMBER = rf"(?:(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:])|{_ORDINAL_WORD})"
_ORDINAL = rf"(?:\d{{1,2}}(?:st|nd|rd|th)|{_ORDINAL_WORD})"
_MONTH = (
    r"(?:(?:january|february|febuary|march|april|may|june|july|august|september|october|november|december"
    r"|jan\.|feb\.?|mar\.?|apr\.?|jun\.?|jul\.?|aug\.?|sept\.?|sep\.?|oct\.?|nov\.?|dec\.?)(?![a-z]))"
)
_WD_ANY = _alternation(_WEEKDAY_TOKENS)
_WD_SAFE = _alternation(k for k in _WEEKDAY_TOKENS if k not in _AMBIGUOUS_WEEKDAYS)
_TOMORROW = (
    r"(?:tomorrow|tomorow|tommorow|tommorrow|tomorrw|tomorro|tomoorow|tmrw|tmrrw|tmr|2morrow|2morow|2moro)"
)
_HOUR = rf"(?:\d{{1,2}}(?![\d:])|{_HOUR_WORD}(?![\w']))"
"""A bare hour as digits or a word, ending cleanly ("7" but not "7:", "seven" but not "seventy")."""
_PREP = r"(?:at|@|by|around|about|round|approx(?:imately|\.)?|from|until|till|til|before|after)"
_MERIDIEM = r"(?P<mer>[ap]\.?\s?m\.?(?![a-z])|o['\u2019]?\s?clock|oclock)"
_LIST_SEP = r"\s*(?:,\s*and|,|and|&|\+)\s*"

_SOFT_END = re.compile(
    r"\s*(?:$|[,.!?;:)\-]|(?:and|or|to|in|on|at|for|with|the|so|then|tomorrow|today|tonight|this|next"
    r"|every|each|please|sharp|i|we|he|she|they|you|my|our|remind|call|if|because|when|that|of\s+"
    + _MONTH
    + r"|a\.?m|p\.?m|o'?clock)\b)",
    _FLAGS,
)
"""What may follow a word-number time or "the 12th" so that it reads as one ("at four seasons" does not)."""

_COUNT_NOUN = re.compile(
    r"\s*(?:people|persons?|guests?|of\s+us|adults?|children|kids|pills?|tablets?|times?|days?|weeks?"
    r"|months?|years?|minutes?|mins?|hours?|hrs?|percent|%|kg|pounds?|dollars?|euros?|kronor)\b",
    _FLAGS,
)
_EVENING_CONTEXT = re.compile(
    r"\b(?:table|restaurant|dinner|supper|theat(?:re|er)|concert|cinema|movies?|opera|dine|dining)\b", _FLAGS
)
_MORNING_CONTEXT = re.compile(r"\b(?:wake|waking|woken|get\s+up|getting\s+up)\b", _FLAGS)
_LOOK_BACK = 40
"""How far back the "preceded by" checks look: enough for "Wednesday, " or "at 10:30 pm and ", and keeps
them from rescanning long messages from the start."""
_PRECEDING_CLOCK = re.compile(
    r"\b(?:at|@)\s+\d{1,2}(?:[:.]\d\d)?\s*(?:[ap]\.?\s?m\.?)?\s*(?:,\s*and|,|and|&)\s*$", _FLAGS
)
"""A list of times: "at 9 and 21" -- the 21 is a time too."""
_LISTED_BEFORE = re.compile(r"(?:,|&|\band)\s*$", _FLAGS)
_PART_AFTER = re.compile(
    r"\s+(?:at\s+night|in\s+the\s+(?:morning|afternoon|evening)|(?:every|each)\s+(?:morning|afternoon|evening|night))\b",
    _FLAGS,
)


def _listed_with_part(m: re.Match[str], hour: int) -> bool:
    """ "... and 9 at night", ", 6 in the evening": a bare hour in a list of times, read by its part of
    day. Only 5-12, as "take 2 in the morning" is a dose."""
    return (
        5 <= hour <= 12
        and _PART_AFTER.match(m.string, m.end()) is not None
        and _LISTED_BEFORE.search(m.string, max(0, m.start() - _LOOK_BACK), m.start()) is not None
    )


_PRECEDING_WEEKDAY = re.compile(rf"\b(?:{_WD_ANY})\s*,?\s*$", _FLAGS)
_CONNECTORS = re.compile(
    r"(?:[\s,]|\b(?:at|on|in|the|and|of|from|starting|beginning|by|around|about|this|next|for|then)\b)*",
    _FLAGS,
)


def _words_value(words: str) -> int:
    """The value of "twenty five", "forty-five", "o five", "a couple of"."""
    return sum(_NUMBER_VALUES.get(token, 0) for token in re.split(r"[\s-]+", words.lower()) if token)


_MAX_AMOUNT = 100_000.0


def _amount(text: str) -> float:
    """A count as said: "2", "1.5", "two", "an", "a couple of", "two and a half". Absurd counts are 0,
    which every reader refuses, so "in 999...9 days" cannot overflow the calendar."""
    half = 0.5 if re.search(r"and\s+a\s+half", text, _FLAGS) else 0.0
    head = re.sub(r"\s+and\s+a\s+half.*$", "", text.strip(), flags=_FLAGS)
    if head[:1].isdigit():
        value = float(head) + half if len(head) <= 9 else 0.0
        return value if value <= _MAX_AMOUNT else 0.0
    if "couple" in head.lower():
        return 2 + half
    return _words_value(head) + half


def _number(text: str) -> int:
    """7 -> 7, seven -> 7, forty-five -> 45."""
    return int(text) if text.isdigit() else _words_value(text)


def _ordinal(text: str) -> int:
    """12th -> 12, twelfth -> 12, twenty-first -> 21."""
    digits = re.match(r"\d+", text)
    if digits:
        return int(digits.group())
    return sum(_ORDINAL_VALUES.get(token, 0) for token in re.split(r"[\s-]+", text.lower()) if token)


def _weekday(token: str) -> int:
    token = token.lower()
    if token in _WEEKDAY_TOKENS:
        return _WEEKDAY_TOKENS[token]
    return _WEEKDAY_TOKENS[token[:-1]]  # a plural: "mondays"


def _month(token: str) -> int:
    return _MONTHS.index(token[:3].lower()) + 1


# --------------------------------------------------------------------------------------------------
# Calendar arithmetic
# --------------------------------------------------------------------------------------------------


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _add_months(day: date, months: int) -> date:
    """Same day of the month, clamped to the month's length (Jan 31 + 1 month = Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday_date(today: date, weekday: int, mode: str) -> date:
    """The day a weekday name means, by how it was introduced (see the module docstring)."""
    if mode == "next":
        return _monday(today) + timedelta(days=7 + weekday)
    if mode == "thisweek":
        return _monday(today) + timedelta(days=weekday)
    if mode == "last":
        return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
    ahead = (weekday - today.weekday()) % 7
    if mode == "upcoming" and ahead == 0:
        ahead = 7
    return today + timedelta(days=ahead)


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    """A month and day: this year's unless already past, then next year's (Feb 29: the next leap year)."""
    if year is not None:
        return date(year, month, day) if day <= _days_in_month(year, month) else None
    for candidate_year in range(today.year, today.year + 9):
        if day <= _days_in_month(candidate_year, month):
            candidate = date(candidate_year, month, day)
            if candidate >= today:
                return candidate
    return None


def _next_monthday(today: date, monthday: int) -> date | None:
    """The next day numbered ``monthday`` (today included), skipping months too short for it."""
    for months in range(0, 13):
        first = _add_months(today.replace(day=1), months)
        if monthday <= _days_in_month(first.year, first.month):
            candidate = first.replace(day=monthday)
            if candidate >= today:
                return candidate
    return None


def _local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """Wall-clock time in ``zone``: non-existent times move forward by the DST gap, repeated ones are the
    first. Hour 24 is midnight at the end of ``day``."""
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    naive_local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)  # fold=0
    return naive_local.astimezone(UTC).astimezone(zone)


# --------------------------------------------------------------------------------------------------
# Rules: one regex and one reader each
# --------------------------------------------------------------------------------------------------

_Reader = Callable[[re.Match[str], date], _Payload | None]
_RULES: list[tuple[re.Pattern[str], _Reader]] = []


def _rule(pattern: str) -> Callable[[_Reader], _Reader]:
    """Register ``reader`` for ``pattern``; earlier rules win ties between equally long matches."""

    def register(reader: _Reader) -> _Reader:
        _RULES.append((re.compile(pattern, _FLAGS), reader))
        return reader

    return register


def _meridiem_hour(hour: int, meridiem: str | None) -> tuple[int, bool] | None:
    """Apply am/pm to an hour: (24-hour value, fixed?). "o'clock" fixes nothing."""
    mark = (meridiem or "").lower()[:1]
    if mark == "a":
        return (0 if hour == 12 else hour, True) if 1 <= hour <= 12 else None
    if mark == "p":
        return (hour if hour == 12 else hour + 12, True) if 1 <= hour <= 12 else None
    if hour > 12 or hour == 0:
        return (hour, True) if hour <= 23 else None
    return hour, False


def _clock(hour: int, minute: int, meridiem: str | None, zero_padded: bool = False) -> _Clock | None:
    if minute > 59:
        return None
    resolved = _meridiem_hour(hour, meridiem)
    if resolved is None:
        return None
    value, fixed = resolved
    return _Clock(value, minute, fixed or zero_padded)


@_rule(
    rf"(?:\b(?P<pre>{_PREP})\s+(?:(?:about|around|approximately)\s+)?)?(?<![\d/:.\-])(?P<h>\d{{1,2}})"
    rf"(?:(?P<sep>[:.])(?P<m>\d{{2}}))?(?!\d|/|-\d|(?:st|nd|rd|th)\b)(?:\s*{_MERIDIEM})?"
)
def _digit_clock(m: re.Match[str], today: date) -> _Payload | None:
    """7pm, 7:30, 19:30, at 7, 7.30 pm, 7 o'clock. A bare number needs "at"/am/pm/a colon to be a time."""
    listed = _PRECEDING_CLOCK.search(m.string, max(0, m.start() - _LOOK_BACK), m.start()) is not None
    listed = listed or (not m["sep"] and _listed_with_part(m, int(m["h"])))
    anchored = bool(m["pre"] or m["mer"] or m["sep"] == ":" or listed)
    if not anchored or (m["sep"] == "." and not (m["pre"] or m["mer"] or listed)):
        return None
    if not m["mer"] and _COUNT_NOUN.match(m.string, m.end()):
        return None  # "around 7 people"
    padded = len(m["h"]) == 2 and m["h"].startswith("0")
    return _clock(int(m["h"]), int(m["m"] or 0), m["mer"], padded)


@_rule(
    rf"\b(?:(?P<pre>{_PREP})\s+(?:(?:about|around)\s+)?)?(?P<hw>{_HOUR_WORD})(?![\w'])"
    rf"(?:[\s-]+(?P<mw>{_MINUTE_WORD})(?![\w']))?(?:\s*{_MERIDIEM})?"
)
def _word_clock(m: re.Match[str], today: date) -> _Payload | None:
    """at seven, at eight thirty, seven pm, seven o'clock; "at four seasons" is not a time."""
    hour = _words_value(m["hw"])
    listed = not m["mw"] and _listed_with_part(m, hour)
    if not m["mer"] and not listed and not (m["pre"] and _SOFT_END.match(m.string, m.end())):
        return None
    return _clock(hour, _words_value(m["mw"] or ""), m["mer"])


@_rule(
    rf"\b(?:(?P<pre>{_PREP})\s+)?(?P<q>(?:a\s+)?quarter|half|(?P<n>\d{{1,2}}|{_MINUTE_WORD}|{_UNIT_RE})"
    rf"(?P<unit>\s+minutes?)?)\s+(?P<dir>past|after|to|till|before|of)\s+(?P<h>{_HOUR})(?:\s*{_MERIDIEM})?"
)
def _past_to_clock(m: re.Match[str], today: date) -> _Payload | None:
    """half past six, quarter to eight, ten past seven, quarter of eight (7:45), 20 minutes to 9."""
    q = m["q"].lower()
    minutes = 30 if q == "half" else 15 if "quarter" in q else _number(m["n"])
    if not m["unit"] and q != "half" and "quarter" not in q and minutes not in (5, 10, 20, 25):
        return None  # "2 to 4" is a range, not 3:58
    hour = _number(m["h"])
    backwards = m["dir"].lower() in ("to", "till", "before", "of")
    if not 0 < minutes < 60 or hour > 23 or (q == "half" and backwards):
        return None
    named = _meridiem_hour(hour, m["mer"])
    if named is None:
        return None
    value, fixed = named
    total = value * 60 + (-minutes if backwards else minutes)
    if fixed:
        return _Clock(total // 60 % 24, total % 60, True)
    return _Clock((total // 60 - 1) % 12 + 1, total % 60, False)


@_rule(rf"\b(?P<pre>{_PREP})\s+half\s+(?P<h>{_HOUR})(?:\s*{_MERIDIEM})?")
def _half_hour_clock(m: re.Match[str], today: date) -> _Payload | None:
    """British "at half seven" = 7:30."""
    return _clock(_number(m["h"]), 30, m["mer"])


@_rule(rf"\b(?:(?P<pre>{_PREP})\s+)?(?:(?:12|twelve)\s+)?(?P<w>noon|mid-?day|mid-?night)\b")
def _noon_clock(m: re.Match[str], today: date) -> _Payload | None:
    return _Clock(24 if "night" in m["w"].lower() else 12, 0, True)


_RANGE_END = rf"(?:\d{{1,2}}(?:[:.]\d{{2}})?(?![\d:])|{_HOUR_WORD}(?![\w'])|noon\b|midnight\b)"


def _range_side(text: str, meridiem: str | None) -> _Clock | None:
    if text.lower() in ("noon", "midnight"):
        return _Clock(12 if text.lower() == "noon" else 24, 0, True)
    hour, _, minute = text.replace(".", ":").partition(":")
    return _clock(_number(hour), int(minute or 0), meridiem, len(hour) == 2 and hour.startswith("0"))


def _range(m: re.Match[str]) -> _Payload | None:
    """Both ends of "from 7 to 9pm": an unmarked first end takes the second's am/pm when that fits."""
    mer1, mer2 = m["mer1"], m["mer2"]
    if mer2 and not mer1:
        first_value = _number(m["a"].replace(".", ":").partition(":")[0])
        last_value = _number(m["b"].replace(".", ":").partition(":")[0])
        if first_value <= 12 and last_value <= 12:
            mer1 = mer2 if first_value <= last_value or first_value == 12 else None
    first, last = _range_side(m["a"], mer1), _range_side(m["b"], mer2)
    if first is None or last is None:
        return None
    return _Range(first, last)


_MERIDIEM_1, _MERIDIEM_2 = _MERIDIEM.replace("mer>", "mer1>"), _MERIDIEM.replace("mer>", "mer2>")
_RANGE_SIDES = (
    rf"(?<![\d:.])(?P<a>{_RANGE_END})(?:\s*{_MERIDIEM_1})?\s*"
    rf"(?:to|till|until|til|and|-|\u2013)\s*(?P<b>{_RANGE_END})(?:\s*{_MERIDIEM_2})?"
)


@_rule(rf"\b(?:from|between)\s+{_RANGE_SIDES}")
def _introduced_range(m: re.Match[str], today: date) -> _Payload | None:
    """from 7 to 9, between 2 and 4, from 10am until noon."""
    return _range(m)


@_rule(_RANGE_SIDES)
def _bare_range(m: re.Match[str], today: date) -> _Payload | None:
    """7-9pm: without "from" the second end must carry am/pm."""
    return _range(m) if m["mer2"] and "and" not in m.group().lower() else None


_OFFSET_UNIT = r"(?P<u>hours?|hrs?|minutes?|mins?)"


def _offset(amount: float, unit: str) -> _Offset | None:
    minutes = amount * (60 if unit.lower().startswith("h") else 1)
    return _Offset(timedelta(minutes=minutes)) if 0 < minutes <= 60 * 24 * 7 else None


_AND_A_HALF = r"(?P<half>\s+and\s+a\s+half)?"


@_rule(rf"\b(?:in|within|after)\s+(?P<n>{_AMOUNT})\s*{_OFFSET_UNIT}{_AND_A_HALF}(?:'s|s')?(?:\s+time)?\b")
def _in_offset(m: re.Match[str], today: date) -> _Payload | None:
    """in two hours, in 30 minutes, in an hour and a half, in 2 hrs."""
    return _offset(_amount(m["n"]) + (0.5 if m["half"] else 0.0), m["u"])


@_rule(rf"\b(?P<n>{_AMOUNT})\s*{_OFFSET_UNIT}{_AND_A_HALF}\s+from\s+now\b")
def _from_now_offset(m: re.Match[str], today: date) -> _Payload | None:
    """two hours from now."""
    return _offset(_amount(m["n"]) + (0.5 if m["half"] else 0.0), m["u"])


@_rule(r"\bin\s+(?:(?P<half>a\s+half\s+hour|half\s+an\s+hour)|a\s+quarter\s+of\s+an\s+hour)\b")
def _fraction_offset(m: re.Match[str], today: date) -> _Payload | None:
    """in half an hour, in a quarter of an hour."""
    return _Offset(timedelta(minutes=30 if m["half"] else 15))


@_rule(
    rf"\b(?P<dat>(?:the\s+)?day\s+after\s+{_TOMORROW}|overmorrow)\b|\b(?P<rel>{_TOMORROW}|today|yesterday)\b"
)
def _relative_day(m: re.Match[str], today: date) -> _Payload | None:
    """today, tomorrow (and its usual misspellings), the day after tomorrow, yesterday (a past day)."""
    if m["dat"]:
        return _Day(today + timedelta(days=2))
    word = m["rel"].lower()
    shift = 0 if word == "today" else -1 if word == "yesterday" else 1
    return _Day(today + timedelta(days=shift))


@_rule(
    rf"\b(?P<in>in\s+)?(?P<n>{_AMOUNT})\s+(?P<u>day|week|fortnight|month|year)s?(?:'s|s')?(?:\s+time)?"
    rf"(?:\s+from\s+(?P<base>today|now|{_TOMORROW}))?\b"
)
def _days_from_now(m: re.Match[str], today: date) -> _Payload | None:
    """in 3 days, in two weeks, a week from today, a week from tomorrow, in a month."""
    if not (m["in"] or m["base"]):
        return None
    base = today
    if m["base"] and m["base"].lower() not in ("today", "now"):
        base = today + timedelta(days=1)
    count = _amount(m["n"])
    if count != int(count) or not 0 < count <= 400:
        return None
    unit = m["u"].lower()
    if unit == "month":
        return _Day(_add_months(base, int(count)))
    if unit == "year":
        return _Day(_add_months(base, 12 * int(count)))
    days = {"day": 1, "week": 7, "fortnight": 14}[unit]
    return _Day(base + timedelta(days=days * int(count)))


@_rule(r"\bin\s+a\s+fortnight\b")
def _fortnight(m: re.Match[str], today: date) -> _Payload | None:
    return _Day(today + timedelta(days=14))


@_rule(r"\b(?P<k>next|this(?:\s+coming)?|coming|(?:at|on|over)\s+the)\s+(?P<u>weekend|week|month|year)\b")
def _period(m: re.Match[str], today: date) -> _Payload | None:
    """next week (its Monday), next month (the 1st), next year (1 January), this/next weekend (Saturday)."""
    key, unit = m["k"].lower().split()[0], m["u"].lower()
    if unit == "weekend":
        saturday = _weekday_date(today, 5, "next" if key == "next" else "this")
        if key != "next" and today.weekday() == 6:
            saturday = today  # on a Sunday "this weekend" is today
        return _Day(saturday)
    if key != "next":
        return None
    if unit == "week":
        return _Day(_monday(today) + timedelta(days=7))
    if unit == "month":
        return _Day(_add_months(today.replace(day=1), 1))
    return _Day(date(today.year + 1, 1, 1))


@_rule(
    rf"\b(?:(?P<pre>(?:on\s+)?(?:this\s+coming|this|coming|next|last)|on)\s+(?:the\s+)?(?P<a>{_WD_ANY})"
    rf"|(?P<b>{_WD_SAFE}))\b\.?(?:,?\s+(?:of\s+)?(?P<wk>next|this)\s+week\b)?"
    rf"|\bnext\s+week\s+(?:on\s+)?(?P<c>{_WD_ANY})\b"
)
def _weekday_day(m: re.Match[str], today: date) -> _Payload | None:
    """friday, on friday, this friday, next tuesday, tuesday next week, next week on tuesday, last monday."""
    token = m["a"] or m["b"] or m["c"]
    words = (m["pre"] or "").lower().split()
    mode = "upcoming"
    if m["c"] or (m["wk"] or "").lower() == "next" or "next" in words:
        mode = "next"
    elif (m["wk"] or "").lower() == "this":
        mode = "thisweek"
    elif "this" in words or "coming" in words:
        mode = "this"
    elif "last" in words:
        mode = "last"
    weekday = _weekday(token)
    return _Day(_weekday_date(today, weekday, mode), weekday=weekday)


def _dated(today: date, month: int, day_text: str, year: str | None) -> _Payload | None:
    monthday = _ordinal(day_text)
    if not 1 <= monthday <= 31:
        return None
    day = _month_day(today, month, monthday, int(year) if year else None)
    return None if day is None else _Day(day, month=month, monthday=monthday)


@_rule(
    rf"\b(?:on\s+)?(?:the\s+)?(?P<d>{_DAY_NUMBER})(?:\s+of)?\s+(?P<mon>{_MONTH})\.?"
    rf"(?:,?\s+(?P<y>(?:19|20)\d\d)(?![\d:]))?"
)
def _day_month_date(m: re.Match[str], today: date) -> _Payload | None:
    """3rd of March, the 3rd of March, 3 March 2027."""
    return _dated(today, _month(m["mon"]), m["d"], m["y"])


@_rule(
    rf"\b(?:on\s+)?(?P<mon>{_MONTH})\.?\s+(?:the\s+)?(?P<d>{_DAY_NUMBER})(?:,?\s+(?P<y>(?:19|20)\d\d)(?![\d:]))?"
)
def _month_day_date(m: re.Match[str], today: date) -> _Payload | None:
    """March 3, March 3rd, March the third, Dec 24, 2026."""
    return _dated(today, _month(m["mon"]), m["d"], m["y"])


@_rule(rf"\b(?:(?P<on>on)\s+)?the\s+(?P<d>{_ORDINAL})(?P<month>\s+of\s+the\s+month)?\b")
def _ordinal_date(m: re.Match[str], today: date) -> _Payload | None:
    """on the 12th, Saturday the 28th, the 1st of the month: the next such day of a month ("the 3rd
    floor" is not a date)."""
    after_weekday = _PRECEDING_WEEKDAY.search(m.string, max(0, m.start() - _LOOK_BACK), m.start())
    introduced = m["on"] or m["month"] or after_weekday
    if not introduced and not _SOFT_END.match(m.string, m.end()):
        return None
    monthday = _ordinal(m["d"])
    day = _next_monthday(today, monthday) if 1 <= monthday <= 31 else None
    return None if day is None else _Day(day, monthday=monthday)


@_rule(r"\b(?:on\s+)?(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})\b")
def _iso_date(m: re.Match[str], today: date) -> _Payload | None:
    """2026-12-24: the only numeric date that cannot be misread (within a century of today, so that
    time zone arithmetic cannot fall off the calendar)."""
    try:
        day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
    except ValueError:
        return None
    if abs(day.year - today.year) > 100:
        return None
    return _Day(day, month=day.month, monthday=day.day)


_PARTS: dict[str, tuple[int, Cue]] = {
    "morning": (9, "morning"), "afternoon": (15, "afternoon"), "evening": (19, "evening"),
    "night": (20, "evening"), "tonight": (20, "evening"), "tonite": (20, "evening"), "2nite": (20, "evening"),
    "breakfast": (8, "morning"), "brunch": (11, "morning"),
    "lunch": (12, "midday"), "luncheon": (12, "midday"),
    "tea": (17, "afternoon"), "dinner": (19, "evening"), "supper": (19, "evening"), "bed": (21, "evening"),
}  # fmt: skip


def part_of_day_hour(word: str) -> int | None:
    """The hour a part of the day or a meal stands for ("night" 20, "breakfast" 8), else None."""
    part = _PARTS.get(word.lower())
    return part[0] if part else None


@_rule(
    r"\b(?:(?P<this>this)\s+|(?P<last>last)\s+|(?:in|during)\s+the\s+|(?:early|late)\s+|at\s+)?"
    r"(?<!good\s)(?P<p>morning|afternoon|evening|night|tonight|tonite|2nite)\b"
)
def _part_of_day(m: re.Match[str], today: date) -> _Payload | None:
    """this morning, in the afternoon, tonight, at night; "good morning" is a greeting."""
    word = m["p"].lower()
    hour, cue = _PARTS[word]
    day = None
    if m["this"] or word in ("tonight", "tonite", "2nite"):
        day = today
    elif m["last"]:
        day = today - timedelta(days=1)
    return _Part(hour, cue, day)


@_rule(r"(?<!the\s)\bfirst\s+thing(?:\s+in\s+the\s+morning)?\b")
def _first_thing(m: re.Match[str], today: date) -> _Payload | None:
    """ "first thing (tomorrow)": early morning, said by people who do not name an hour."""
    return _Part(8, "morning")


@_rule(
    r"\b(?:(?P<pre>at|for|with|before|after|around|by|over|during)\s+(?:(?:the|my|our|your)\s+)?)?"
    r"(?P<meal>breakfast|brunch|luncheon|lunch|tea|dinner|supper|bed)(?P<time>\s*time)?\b"
)
def _meal(m: re.Match[str], today: date) -> _Payload | None:
    """for dinner, with breakfast, at lunchtime, bedtime: a meal is a time only when introduced as one."""
    if not (m["pre"] or m["time"]):
        return None
    hour, cue = _PARTS[m["meal"].lower()]
    return _Part(hour, cue)


# Recurrences ---------------------------------------------------------------------------------------


@_rule(r"\b(?:(?:every|each)\s+(?:single\s+)?day|everyday|daily|once\s+(?:a|per|each)\s+day|once\s+daily)\b")
def _daily(m: re.Match[str], today: date) -> _Payload | None:
    return _Recur("DAILY")


@_rule(
    rf"\b(?:every|each)\s+(?:(?P<other>other|second|2nd|alternate)|(?P<n>{_AMOUNT}))\s+days?\b"
    r"|\bon\s+alternate\s+days\b"
)
def _every_n_days(m: re.Match[str], today: date) -> _Payload | None:
    """every other day, every 3 days."""
    interval = int(_amount(m["n"])) if m["n"] else 2
    return _Recur("DAILY", interval=interval) if interval >= 1 else None


@_rule(
    r"\b(?:(?:every|each)\s+(?P<p>morning|afternoon|evening|night)|(?P<nightly>nightly)"
    r"|in\s+the\s+(?P<ps>morning|afternoon|evening)s)\b"
)
def _every_part(m: re.Match[str], today: date) -> _Payload | None:
    """every morning, each night, nightly, in the evenings."""
    word = (m["p"] or m["ps"] or "night").lower()
    hour, cue = _PARTS[word]
    return _Recur("DAILY", part=_Part(hour, cue))


def _weekdays_in(text: str) -> tuple[int, ...]:
    return tuple(sorted({_weekday(t) for t in re.findall(rf"\b(?:{_WD_ANY})s?\b", text, _FLAGS)}))


_WD_ITEM = rf"(?:{_WD_ANY})s?"
_WD_PLURAL = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days"


@_rule(
    rf"\b(?:every|each)\s+(?:(?P<iv>other|second|2nd|alternate)\s+)?(?P<list>{_WD_ITEM}(?:{_LIST_SEP}{_WD_ITEM})*)\b"
    rf"|\b(?:on\s+)?(?P<plural>{_WD_PLURAL}(?:{_LIST_SEP}{_WD_PLURAL})*)\b"
)
def _every_weekday_named(m: re.Match[str], today: date) -> _Payload | None:
    """every Monday and Thursday, every other Tuesday, on Mondays."""
    days = _weekdays_in(m["list"] or m["plural"])
    return _Recur("WEEKLY", interval=2 if m["iv"] else 1, byday=days) if days else None


@_rule(
    r"\b(?:(?:every|each)\s+(?:week\s*day|working\s+day|work\s*day)|(?:on\s+)?week\s*days"
    r"|mondays?\s+(?:to|through|thru|till|until)\s+fridays?)\b"
)
def _every_workday(m: re.Match[str], today: date) -> _Payload | None:
    return _Recur("WEEKLY", byday=(0, 1, 2, 3, 4))


@_rule(r"\b(?:(?:every|each)\s+weekend|(?:on|at)\s+(?:the\s+)?weekends|weekends)\b")
def _every_weekend(m: re.Match[str], today: date) -> _Payload | None:
    return _Recur("WEEKLY", byday=(5, 6))


@_rule(
    rf"\b(?:(?:every|each)\s+(?:(?P<n>{_AMOUNT})\s+)?(?P<u>hours?|hrs?|minutes?|mins?)|(?P<hourly>hourly)"
    r"|(?:every|each)\s+(?P<half>half\s+(?:an\s+)?hour))\b"
)
def _every_n_hours(m: re.Match[str], today: date) -> _Payload | None:
    """every 2 hours, every hour, hourly, every 30 minutes, every half hour."""
    if m["half"]:
        return _Recur("MINUTELY", interval=30)
    count = _amount(m["n"]) if m["n"] else 1.0
    if m["u"] and m["u"].lower().startswith("m"):
        return _Recur("MINUTELY", interval=int(count)) if count == int(count) and count >= 1 else None
    if count != int(count):
        return _Recur("MINUTELY", interval=int(count * 60))
    return _Recur("HOURLY", interval=int(count)) if count >= 1 else None


_TIMES_A_DAY = {1: (), 2: (8, 20), 3: (8, 14, 20), 4: (8, 12, 16, 20)}


@_rule(rf"\b(?:(?P<w>once|twice|thrice)|(?P<n>{_AMOUNT})\s+times)\s+(?:(?:a|per|each|every)\s+day|daily)\b")
def _times_a_day(m: re.Match[str], today: date) -> _Payload | None:
    """twice a day (08:00, 20:00), three times a day (08, 14, 20), four times a day (08, 12, 16, 20)."""
    count = {"once": 1, "twice": 2, "thrice": 3}.get((m["w"] or "").lower()) or int(_amount(m["n"]))
    hours = _TIMES_A_DAY.get(count)
    return None if hours is None else _Recur("DAILY", hours=hours)


@_rule(
    rf"\b(?:(?:every|each)\s+(?:(?P<iv>other|second|2nd|alternate)\s+|(?P<n>{_AMOUNT})\s+)?weeks?"
    r"|weekly|once\s+(?:a|per|each)\s+week|(?P<fortnight>fortnightly|bi-?weekly))\b"
)
def _weekly(m: re.Match[str], today: date) -> _Payload | None:
    """every week, weekly, every other week, every 3 weeks, fortnightly."""
    interval = 2 if (m["iv"] or m["fortnight"]) else int(_amount(m["n"])) if m["n"] else 1
    return _Recur("WEEKLY", interval=max(interval, 1))


@_rule(
    rf"\b(?:(?:every|each)\s+(?:(?P<iv>other|second)\s+)?months?|monthly|once\s+(?:a|per|each)\s+month)"
    rf"(?:\s+on\s+the\s+(?P<md>{_ORDINAL}))?\b"
    rf"|\b(?:on\s+)?the\s+(?P<md2>{_ORDINAL})\s+(?:day\s+)?of\s+(?:every|each)\s+month\b"
)
def _monthly(m: re.Match[str], today: date) -> _Payload | None:
    """every month, monthly, every month on the 1st, on the 15th of every month."""
    text = m["md"] or m["md2"]
    monthday = _ordinal(text) if text else None
    if monthday is not None and not 1 <= monthday <= 31:
        return None
    return _Recur("MONTHLY", interval=2 if m["iv"] else 1, bymonthday=monthday)


@_rule(r"\b(?:(?:every|each)\s+year|yearly|annually|once\s+(?:a|per|each)\s+year)\b")
def _yearly(m: re.Match[str], today: date) -> _Payload | None:
    return _Recur("YEARLY")


# --------------------------------------------------------------------------------------------------
# Finding hits and choosing the span
# --------------------------------------------------------------------------------------------------


def _scan(text: str, today: date) -> list[_Hit]:
    """Every rule's matches, then the longest ones that do not overlap, in text order."""
    found: list[_Hit] = []
    for rank, (pattern, reader) in enumerate(_RULES):
        for match in pattern.finditer(text):
            payload = reader(match, today)
            if payload is not None:
                found.append(_Hit(match.start(), match.end(), rank, payload))
    found.sort(key=lambda hit: (hit.start - hit.end, hit.start, hit.rank))
    kept: list[_Hit] = []
    for hit in found:
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda hit: hit.start)


def _span(hits: list[_Hit], text: str) -> tuple[int, int]:
    """The largest run of hits joined only by little words ("tomorrow at seven", "every morning at 8")."""
    runs: list[list[_Hit]] = [[hits[0]]]
    for hit in hits[1:]:
        gap = text[runs[-1][-1].end : hit.start]
        if _CONNECTORS.fullmatch(gap):
            runs[-1].append(hit)
        else:
            runs.append([hit])
    best = max(runs, key=lambda run: (len(run), run[-1].end - run[0].start))
    return best[0].start, best[-1].end


# --------------------------------------------------------------------------------------------------
# From hits to instants
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _When:
    """The reference point: now (UTC), the person's zone, and their today."""

    now: datetime
    zone: ZoneInfo
    today: date

    def local(self, day: date, hour: int, minute: int) -> datetime:
        return _local(day, hour, minute, self.zone)

    def ahead(self, moment: datetime) -> bool:
        """Strictly after now; compared in UTC, as same-zone comparisons ignore DST folds."""
        return moment.astimezone(UTC) > self.now


@dataclass(slots=True)
class _Found:
    """The hits sorted by kind, plus the hints that read ambiguous hours."""

    clocks: list[_Clock] = field(default_factory=list)
    days: list[_Day] = field(default_factory=list)
    parts: list[_Part] = field(default_factory=list)
    offsets: list[_Offset] = field(default_factory=list)
    recurs: list[_Recur] = field(default_factory=list)
    ranges: list[_Range] = field(default_factory=list)
    evening_context: bool = False
    morning_context: bool = False
    clock_cues: list[Cue | None] = field(default_factory=list)
    """Per clock, in order: the part of day said right by it ("9 at night"), else None."""
    listed_parts: list[_Part] = field(default_factory=list)
    """Parts of day that are times of their own in a recurrence ("at breakfast and at dinner")."""

    @classmethod
    def of(cls, hits: list[_Hit], text: str) -> _Found:
        found = cls(
            evening_context=bool(_EVENING_CONTEXT.search(text)),
            morning_context=bool(_MORNING_CONTEXT.search(text)),
        )
        for hit in hits:
            found.add(hit.payload)
        found.clock_cues, found.listed_parts = _times_of_day(hits, text)
        return found

    def add(self, payload: _Payload) -> None:
        if isinstance(payload, _Clock):
            self.clocks.append(payload)
        elif isinstance(payload, _Day):
            self.days.append(payload)
        elif isinstance(payload, _Part):
            self.parts.append(payload)
        elif isinstance(payload, _Offset):
            self.offsets.append(payload)
        elif isinstance(payload, _Recur):
            self.recurs.append(payload)
        else:
            self.ranges.append(payload)

    def day(self) -> date | None:
        """The named day: a dated one ("Saturday the 28th") wins over a weekday, then a part's ("tonight")."""
        dated = [d for d in self.days if d.monthday is not None]
        if dated or self.days:
            return (dated or self.days)[0].day
        return next((p.day for p in self.parts if p.day is not None), None)

    def clock_cue(self, index: int) -> Cue | None:
        """The part of day that reads the index-th clock: its own (see _times_of_day), else "wake me"."""
        return self.clock_cues[index] or ("morning" if self.morning_context else None)

    def cue(self) -> Cue | None:
        """The part of day that reads ambiguous hours: a said one, else "wake me" means morning."""
        part = self.parts[0] if self.parts else next((r.part for r in self.recurs if r.part), None)
        if part:
            return part.cue
        return "morning" if self.morning_context else None


def _part_in(payload: _Payload) -> _Part | None:
    return payload if isinstance(payload, _Part) else payload.part if isinstance(payload, _Recur) else None


_AND = re.compile(r",|&|\+|\b(?:and|then)\b", _FLAGS)
_DOSE = re.compile(
    r"\b(?:\d+|an?|one|two|three|half)(?:\s+(?:tablets?|pills?|capsules?|drops?|puffs?|spoonfuls?))?\b",
    _FLAGS,
)
"""A dose between two listed times ("1 in the morning and 1 at night") does not part them."""


def _gap_kind(text: str, left: _Hit, right: _Hit) -> str | None:
    """How two neighbouring hits are joined: "tight" ("at 8 in the morning"), "and" ("at 8 and at 6",
    "at breakfast, lunch"), or None (other words between them)."""
    gap = _DOSE.sub(" ", text[left.end : right.start])
    if not _CONNECTORS.fullmatch(gap):
        return None
    return "and" if _AND.search(gap) else "tight"


_Timed = list[tuple[_Hit, _Part | None]]
"""The clock and part-of-day hits in text order, each with its part of day (None for a clock)."""


def _parts_of_clocks(timed: _Timed, text: str) -> dict[int, int]:
    """Each clock's part of day: the part said right by it, the earlier one when both sides have one."""
    owner: dict[int, int] = {}  # part's index -> its clock's index
    for i, (_, part) in enumerate(timed):
        if part is not None:
            continue
        for j in (i - 1, i + 1):
            beside = 0 <= j < len(timed) and timed[j][1] is not None and j not in owner
            if beside and _gap_kind(text, timed[min(i, j)][0], timed[max(i, j)][0]) == "tight":
                owner[j] = i
                break
    return owner


def _times_of_day(hits: list[_Hit], text: str) -> tuple[list[Cue | None], list[_Part]]:
    """Which part of day each clock time belongs to, and which parts of day are times of their own.

    "at 9 each morning and 9 at night" is two doses: each clock takes the part of day said right by
    it, and a clock with none takes the first part no clock took ("every evening ... at 7"). A part
    no clock took is a time of its own in a recurrence when it is listed with "and" ("at breakfast
    and at dinner", "every morning at 8 and every evening"), or, with no clock said at all, the
    first one. Parts side by side ("every night before bed") are one time: the first said."""
    timed: _Timed = [
        (h, _part_in(h.payload)) for h in hits if isinstance(h.payload, _Clock) or _part_in(h.payload)
    ]
    owner = _parts_of_clocks(timed, text)
    own = {clock: timed[part][1] for part, clock in owner.items()}
    free = [(i, part) for i, (_, part) in enumerate(timed) if part is not None and i not in owner]
    joins = {
        i: [_gap_kind(text, timed[j - 1][0], timed[j][0]) for j in (i, i + 1) if 0 < j < len(timed)]
        for i, _ in free
    }
    own_time = {i for i, _ in free if "and" in joins[i]}  # "at 8 and at night": night is not 8's part
    fallback = next((part for i, part in free if i not in own_time), None)
    cues: list[Cue | None] = []
    for i, (_, part) in enumerate(timed):
        if part is None:
            said = own.get(i) or fallback
            cues.append(said.cue if said else None)
    listed: list[_Part] = []
    free_at = {i for i, _ in free}
    for i, part in free:
        beside_free_part = i - 1 in free_at and joins[i][0] != "and"
        if beside_free_part:
            continue  # the same time as the part before it
        if i in own_time or (not cues and not listed):
            listed.append(part)
    return cues, listed


def _hour_choices(clock: _Clock, cue: Cue | None, evening: bool, recurring: bool) -> tuple[int, ...]:
    """24-hour readings of a clock time, most likely first (rules in the module docstring)."""
    hour = clock.hour
    if hour == 12 and cue == "evening" and not clock.fixed:
        return (24,)  # "tonight at 12"
    if clock.fixed or hour == 12:
        return (hour,)
    if cue == "morning" or (cue == "midday" and hour >= 7):
        return (hour,)
    if cue is not None or hour <= 6:
        return (hour + 12,)
    if recurring and not evening:
        return (hour,)
    order = (hour + 12, hour) if evening else (hour, hour + 12)
    return tuple(h for h in order if 7 * 60 <= h * 60 + clock.minute <= 22 * 60)


def _pick(days: list[date], hours: tuple[int, ...], minute: int, when: _When) -> datetime:
    """The first candidate still ahead, trying days then hours in order; else the first (as stated)."""
    for day in days:
        for hour in hours:
            moment = when.local(day, hour, minute)
            if when.ahead(moment):
                return moment
    return when.local(days[0], hours[0], minute)


def _candidate_days(found: _Found, when: _When) -> list[date]:
    day = found.day()
    return [day] if day is not None else [when.today, when.today + timedelta(days=1)]


@dataclass(frozen=True, slots=True)
class _Value:
    start: datetime
    end: datetime | None = None
    recurrence: str | None = None
    date_only: bool = False


def _clock_value(found: _Found, when: _When) -> _Value:
    clock = found.clocks[0]
    hours = _hour_choices(clock, found.clock_cue(0), found.evening_context, recurring=False)
    return _Value(_pick(_candidate_days(found, when), hours, clock.minute, when))


def _range_value(found: _Found, when: _When) -> _Value:
    """The start as any clock time; the end is the first reading of the second time after the start."""
    rng, cue = found.ranges[0], found.cue()
    hours = _hour_choices(rng.first, cue, found.evening_context, recurring=False)
    start = _pick(_candidate_days(found, when), hours, rng.first.minute, when)
    last = rng.last
    readings: tuple[int, ...] = (last.hour,) if last.fixed else (last.hour, last.hour + 12)
    if cue and not last.fixed:
        readings = _hour_choices(last, cue, found.evening_context, recurring=False)
    day = start.date()
    ends = [when.local(d, h, last.minute) for d in (day, day + timedelta(days=1)) for h in readings]
    later = [e for e in ends if e.astimezone(UTC) > start.astimezone(UTC)]  # never empty: day + 1 is there
    return _Value(start, min(later, key=lambda e: e.astimezone(UTC)))


def _part_value(found: _Found, when: _When) -> _Value:
    part = found.parts[0]
    return _Value(_pick(_candidate_days(found, when), (part.hour,), 0, when))


def _day_value(found: _Found, when: _When) -> _Value:
    day = found.day()
    assert day is not None  # only called when a day was found
    return _Value(when.local(day, 0, 0), date_only=True)


def _merged_recur(found: _Found) -> tuple[_Recur, date | None]:
    """One rule from all recurrence hits, completed by a named day ("every week on Tuesday"); a day that
    does not fit the rule is where it starts ("every day at 8 starting Monday"). With no rule said
    (times listed as a habit, see _listed_value) it is every day."""
    rule = found.recurs[0] if found.recurs else _Recur("DAILY")
    for other in found.recurs[1:]:
        rule = replace(
            rule,
            freq="WEEKLY" if other.byday and not rule.byday else rule.freq,
            interval=max(rule.interval, other.interval),
            byday=rule.byday or other.byday,
            bymonthday=rule.bymonthday or other.bymonthday,
            hours=rule.hours or other.hours,
            part=rule.part or other.part,
        )
    starting: date | None = None
    for named in found.days:
        if rule.freq == "WEEKLY" and not rule.byday and named.weekday is not None:
            rule = replace(rule, byday=(named.weekday,))
        elif rule.freq == "MONTHLY" and rule.bymonthday is None and named.monthday is not None:
            rule = replace(rule, bymonthday=named.monthday)
        elif rule.freq == "YEARLY" and named.month is not None:
            rule = replace(rule, bymonth=named.month, bymonthday=named.monthday)
        else:
            starting = named.day
    return rule, starting


_Times = tuple[tuple[int, int], ...]
"""Times of day as (hour, minute), sorted."""


def _recur_times(rule: _Recur, found: _Found) -> _Times:
    """The times of day: said clock times, each read with its own part of day, and parts of day listed
    as times ("at 8 and at night"); else the rule's own hours ("twice a day"), else its part of day.
    None means the caller must ask for a time."""
    times = {
        (_hour_choices(c, found.clock_cue(i), found.evening_context, recurring=True)[0] % 24, c.minute)
        for i, c in enumerate(found.clocks)
    }
    times |= {(part.hour, 0) for part in found.listed_parts}
    if not times and rule.hours:
        times = {(hour, 0) for hour in rule.hours}
    if not times and (part := rule.part or (found.parts[0] if found.parts else None)):
        times = {(part.hour, 0)}
    return tuple(sorted(times))


def _matches(rule: _Recur, day: date) -> bool:
    if rule.byday and day.weekday() not in rule.byday:
        return False
    if rule.bymonthday is not None and day.day != rule.bymonthday:
        return False
    return rule.bymonth is None or day.month == rule.bymonth


def _first_occurrence(rule: _Recur, times: _Times, first: date, when: _When) -> datetime | None:
    """The first matching day and hour strictly after now (a day after today when there is no time);
    None for a rule that matches no day in eight years (say, Monday the 31st of a 30-day month)."""
    for offset in range(0, 366 * 8 + 1):
        day = first + timedelta(days=offset)
        if not _matches(rule, day):
            continue
        for hour, minute in times:
            moment = when.local(day, hour, minute)
            if when.ahead(moment):
                return moment
        if not times and day > when.today:
            return when.local(day, 0, 0)
    return None


def _rrule(rule: _Recur, times: _Times) -> str:
    parts = [f"FREQ={rule.freq}"]
    if rule.interval > 1:
        parts.append(f"INTERVAL={rule.interval}")
    if rule.count is not None:
        parts.append(f"COUNT={rule.count}")
    if rule.bymonth is not None:
        parts.append(f"BYMONTH={rule.bymonth}")
    if rule.bymonthday is not None:
        parts.append(f"BYMONTHDAY={rule.bymonthday}")
    if rule.byday:
        parts.append("BYDAY=" + ",".join(_WEEKDAY_CODES[d] for d in rule.byday))
    if times:
        hours, minutes = sorted({h for h, _ in times}), sorted({m for _, m in times})
        parts.append("BYHOUR=" + ",".join(map(str, hours)))
        parts.append("BYMINUTE=" + ",".join(map(str, minutes)))
        if len(hours) * len(minutes) > len(times):  # not every pair was said
            parts.append("BYSETPOS=" + ",".join(map(str, _set_positions(rule, times, hours, minutes))))
    return ";".join(parts)


def _set_positions(rule: _Recur, times: _Times, hours: list[int], minutes: list[int]) -> list[int]:
    """BYSETPOS for times whose minutes differ ("8am and 6:30pm"): BYHOUR x BYMINUTE makes every pair
    (08:00, 08:30, 18:00, 18:30) on each day of the period, and the positions keep the said ones on
    each day. A period holds one day, or a week's BYDAY days (the rules this module writes)."""
    pairs = [(h, m) for h in hours for m in minutes]
    wanted = [pairs.index(t) for t in times]
    days = len(rule.byday) if rule.freq == "WEEKLY" and rule.byday else 1
    return [day * len(pairs) + i + 1 for day in range(days) for i in wanted]


def _every_few_hours_start(rule: _Recur, found: _Found, when: _When) -> datetime:
    """A series "every 2 hours" starts one step from now; with a said time ("every 2 hours from 8 am") it
    runs from that time on the named day (else today), so said at 10:00 the next one is 12:00."""
    step = timedelta(minutes=rule.interval * (60 if rule.freq == "HOURLY" else 1))
    if not found.clocks:
        return (when.now + step).astimezone(when.zone)
    clock = found.clocks[0]
    hour = _hour_choices(clock, found.cue(), found.evening_context, recurring=True)[0]
    anchor = when.local(found.day() or when.today, hour, clock.minute).astimezone(UTC)
    if anchor <= when.now:
        anchor += step * ((when.now - anchor) // step + 1)
    return anchor.astimezone(when.zone)


def _recur_value(found: _Found, when: _When) -> _Value | None:
    rule, starting = _merged_recur(found)
    if rule.freq in ("HOURLY", "MINUTELY"):
        return _Value(_every_few_hours_start(rule, found, when), recurrence=_rrule(rule, ()))
    times = _recur_times(rule, found)
    first = max(starting or when.today, when.today)
    start = _first_occurrence(rule, times, first, when)
    if start is None:
        return None
    return _Value(start, recurrence=_rrule(rule, times), date_only=not times)


def _listed_value(found: _Found, when: _When) -> _Value | None:
    """Parts of the day listed as times ("my inhaler morning and night", "at breakfast and at dinner")
    with no rule said. With no day said they are a habit, so every day: one start could keep only the
    first, and a dose would be dropped without a word (the read-back says "every day", which someone
    who meant once can refuse). On a day said ("tomorrow morning and evening") each is kept that day
    only, by a rule that ends after them (COUNT); times already past are left out."""
    if not found.listed_parts or found.ranges:
        return None
    times = _recur_times(_Recur("DAILY"), found)
    day = found.day()
    if len(times) < 2:
        return None
    if day is None:
        return _recur_value(found, when)
    ahead = tuple(t for t in times if when.ahead(when.local(day, *t)))
    if len(ahead) < 2:
        return _Value(when.local(day, *ahead[0])) if ahead else None
    return _Value(when.local(day, *ahead[0]), recurrence=_rrule(_Recur("DAILY", count=len(ahead)), ahead))


def _value(found: _Found, when: _When) -> _Value | None:
    """The most telling hit decides: an offset, then a recurrence, a range, a clock, a part of day, a day."""
    if found.offsets:
        return _Value((when.now + found.offsets[0].delta).astimezone(when.zone))
    if found.recurs:
        return _recur_value(found, when)
    if (listed := _listed_value(found, when)) is not None:
        return listed
    if found.ranges:
        return _range_value(found, when)
    if found.clocks:
        return _clock_value(found, when)
    if found.parts:
        return _part_value(found, when)
    if found.days:
        return _day_value(found, when)
    return None


def resolve(text: str, now: datetime, timezone: str) -> TimeExpr | None:
    """The time expression in ``text``, resolved against ``now`` in the IANA zone ``timezone``.

    Returns None when the text says nothing about when. ``now`` must be aware (any zone); results are in
    ``timezone``. Past days and times are returned as stated ("yesterday", "this morning" said at noon):
    the caller decides what to do with them. Raises ValueError for a naive ``now`` and
    zoneinfo.ZoneInfoNotFoundError for an unknown zone. See the module docstring for the rules.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(timezone)
    now_utc = now.astimezone(UTC)
    when = _When(now_utc, zone, now_utc.astimezone(zone).date())
    hits = _scan(text, when.today)
    if not hits:
        return None
    value = _value(_Found.of(hits, text), when)
    if value is None:
        return None
    start, end = _span(hits, text)
    return TimeExpr(
        start=value.start,
        end=value.end,
        recurrence=value.recurrence,
        text=text[start:end],
        span=(start, end),
        date_only=value.date_only,
    )
