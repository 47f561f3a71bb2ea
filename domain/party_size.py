"""How many people a booking is for, read from the message text (the local parser's rule).

Rules a person would write, most specific first: "a party of six", "4 people", "seats 8",
"for two" (unless the number is a time, a date or a duration: "for 7pm", "for 12:30",
"for 1 minute from now", "for 11/1"), "just me", "me and my wife". Checked on the train split
of the shared data, reported on its held-back test rows by `eval.intents`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "a couple of": 2, "a couple": 2,
    "couple of": 2, "a pair of": 2,
}  # fmt: skip

MAX_PARTY = 50

_WORDS = "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
_UNITS = (
    r"[:./]\d|and\s+a\s+half"
    r"|(?:am|pm|a\.?m\b|p\.?m\b|o[\"'\u2019]?\s?clock|hours?|hrs?|minutes?|mins?|seconds?|secs?"
    r"|days?|nights?|weeks?|months?|years?|th|st|nd|rd"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june"
    r"|july|august|september|october|november|december)\b"
)
"""After a number, these make it a time, a duration or a date: "7pm", "12:30", "1 minute", "11/1"."""
_DAYPART = r"in\s+the\s+(?:morning|afternoon|evening)(?!\s+(?:at\s+)?\d)"
""""for 7 in the evening" is a time (as the data reads "a table for two in the afternoon": the
booking flow asks how many rather than guess), "for 3 in the evening at 7" is not."""
NUM = rf"(\d{{1,2}}|{_WORDS})\b(?!\s*(?:{_UNITS}|{_DAYPART}))"
"""One number, digits or words, captured, that is not a time, a duration or a date."""
_PEOPLE = r"(?:people|persons?|guests?|adults|diners|pax|members|friends|of\s+us|seats)"


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


_COUNTED = [
    _pattern(rf"\b(?:party|parry|group|table)\s+of\s+{NUM}"),
    _pattern(rf"\bnumber\s+of\s+(?:people|guests|persons)\s+(?:is\s+|of\s+|:\s*)?{NUM}"),
    _pattern(rf"\b{NUM}\s+{_PEOPLE}\b"),
    _pattern(rf"\b(?:seat|seats|feed|accommodate|fit)\s+{NUM}"),
    _pattern(rf"\bfor\s+(?:just\s+|only\s+)?{NUM}"),
]
"""Patterns whose first group is the party size itself."""

_ME_AND_N = _pattern(rf"\b(?:me|myself|i)\s+and\s+(?:my\s+)?{NUM}\s+\w+")
""""me and two friends", "me and my two sons": the number plus the speaker."""
_ME_AND_ONE = _pattern(r"\b(?:me|myself)\s+and\s+my\s+\w+|\bmy\s+\w+\s+and\s+(?:i|me|myself)\b")
""""me and my wife", "my daughter and me": two people."""
_JUST_ME = _pattern(r"\b(?:just|only)\s+(?:me|myself|one)\b|\bfor\s+myself\b|\bon\s+my\s+own\b")


def _number(token: str) -> int | None:
    """The integer a digit string or a number word stands for."""
    token = " ".join(token.lower().split())
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def _first(patterns: list[re.Pattern[str]], text: str, plus: int = 0) -> int | None:
    """The number captured by the first matching pattern, plus `plus`, if it is plausible."""
    for pattern in patterns:
        match = pattern.search(text)
        value = _number(match.group(1)) if match else None
        if value is not None and 1 <= value + plus <= MAX_PARTY:
            return value + plus
    return None


_RULES: list[Callable[[str], int | None]] = [
    lambda text: _first([_ME_AND_N], text, plus=1),
    lambda text: _first(_COUNTED, text),
    lambda text: 2 if _ME_AND_ONE.search(text) and not re.search(r"\band\b.*\band\b", text, re.I) else None,
    lambda text: 1 if _JUST_ME.search(text) else None,
]


def extract_party_size(text: str) -> int | None:
    """The number of people a booking is for, or None when the text does not say."""
    for rule in _RULES:
        value = rule(text)
        if value is not None:
            return value
    return None
