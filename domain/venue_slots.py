"""Which words of a booking message name the place: pure rules over the text.

Why rules and not the classifier: the place is whatever the person calls it, and it is matched
forgivingly against the user's own venues when the skill runs (`domain.venue_match`), so a near
miss costs a question, not a wrong booking. What must not happen is the opposite: no name read
from "a table at the golden dragon", and a question asked of someone who has just said it.

A name is read after a word that introduces a place ("at", "book", "a reservation for", "the
restaurant ...") or before a kind of place ("Tangerine Hair Studio salon"). A capitalised name
runs while its words do, across small joining words ("Tavern on the Green", "Taste of Burma").
Places said with "near", "far from" or "in" are where to look, not where to book, and are never
read. Typed in lower case, a name is read only after "at the" or as "at luigi's".
"""

from __future__ import annotations

import re

_CAPITAL = r"[A-Z][\w'\u2019&.-]*"
_WHEN = (
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|January|February|March|April|May|June|July|August|"
    r"September|October|November|December|Today|Tomorrow|Tonight|Noon|Midnight|Christmas|Easter"
)
_MORE = rf"(?!(?:{_WHEN})\b){_CAPITAL}"
"""A further word of a name: not a day, month or time ("Harveys on Saturday")."""
_JOIN = r"(?:of|on|the|at|and|&|de|la|le|du|da|del|di|y)"
_NAME = rf"(?P<v>{_CAPITAL}(?:\s+(?:(?:{_JOIN}\s+){{1,2}}{_MORE}|{_MORE}|\d+\b)){{0,5}})"
"""Capitalised words (a number may follow one), with joining words between them: "Tavern on the
Green", "Serendipity 3"."""
_KINDS = (
    r"(?:restaurant|bistro|brasserie|trattoria|pizzeria|diner|cafe|caf\u00e9|pub|tavern|grill|"
    r"steakhouse|salon|barbers?|hairdressers?|spa|clinic|surgery|practice|dental)"
)

_AT = re.compile(rf"\b(?i:at|@)\s+(?i:the\s+)?{_NAME}")
_WITH = re.compile(rf"\b(?i:with)\s+(?i:the\s+)?{_NAME}")
_BOOK = re.compile(
    rf"\b(?i:book|reserve|(?:reservations?|bookings?|table|seats?|spot)\s+(?:at|for|in))\s+(?i:the\s+)?{_NAME}"
)
_KIND_FIRST = re.compile(rf"\b(?i:(?:the|at)\s+{_KINDS}\s+(?:called\s+|named\s+)?){_NAME}")
_CALLED = re.compile(rf"\b(?i:called|named)\s+{_NAME}")
_DOCTOR = re.compile(r"\b(?P<v>Dr\.?\s+[A-Z][\w'\u2019-]*(?:\s+[A-Z][\w'\u2019.-]*){0,3})")
_KIND_AFTER = re.compile(rf"{_NAME}(?P<kind>\s+(?i:{_KINDS}))\b")

_NOT_A_NAME = frozenset(
    {
        "i", "i'm", "i'd", "i'll", "a", "an", "me", "my", "us", "our", "it", "that", "this", "one",
        "am", "pm", "noon", "midnight", "dr", "dr.", "mr", "mrs", "ms", "please", "someone", "somewhere",
        "just",
    }
)  # fmt: skip
"""Capitalised words that are never a place by themselves."""

_LOWER_END = (
    r"on|at|for|in|tomorrow|today|tonight|this|next|by|around|please|and|with|from|near|that|which|who|"
    r"where|i|then|now|again|instead|too|soon|later"
)
_LOWER_AT_THE = re.compile(
    r"\bat\s+the\s+(?P<v>[a-z][\w'\u2019&-]*(?:\s+[a-z][\w'\u2019&-]*){0,3}?)"
    rf"(?=\s+(?:{_LOWER_END})\b|\s*[,.!?]|\s*$)"
)
_LOWER_POSSESSIVE = re.compile(r"\b(?:at|with)\s+(?P<v>[a-z][\w'\u2019&-]*(?:'s|\u2019s))")
_NOT_A_PLACE = frozenset(
    {
        "moment", "weekend", "same", "latest", "earliest", "end", "start", "beginning", "usual",
        "last", "minute", "time", "least", "most", "front", "back", "door", "window", "best",
        "nearest", "closest", "local", "top-rated", "cheapest", "new", "other", "one", "place",
    }
)  # fmt: skip
"""Words after "at the" that say no place's name ("at the weekend", "at the best restaurant")."""
_CUES = (_AT, _BOOK, _KIND_FIRST, _CALLED, _DOCTOR)
_KIND_WORD = re.compile(rf"\s*\b{_KINDS}$")


def venue(text: str) -> str | None:
    """The place the message names, as said; None when it names none."""
    found = [place for pattern in _CUES if (place := _first_name(pattern, text)) is not None]
    if found:  # the one said first ("book the Great House at Sonning"), and all of it
        return min(found, key=lambda place: (place[0], -len(place[1])))[1]
    kind = _first_name(_KIND_AFTER, text)  # "Cheung Hing Restaurant", "the Atelier salon"
    if kind is not None:
        return kind[1]
    with_ = _first_name(_WITH, text)  # last: "a table with Anna" names a guest
    return with_[1] if with_ is not None else _lower_case(text)


def _first_name(pattern: re.Pattern[str], text: str) -> tuple[int, str] | None:
    """(where, name) of the pattern's first name that is one and is not an area."""
    for match in pattern.finditer(text):
        said = match.group("v")
        kind = match.groupdict().get("kind")
        if kind and kind.strip()[0].isupper():  # a capitalised kind is part of the name
            said += kind
        name = _trimmed(said)
        if name is not None and not _said_as_area(text, match.start("v")):
            return match.start("v"), name
    return None


def _trimmed(name: str) -> str | None:
    """The name up to the end of its sentence, without a trailing joining word; None if it is no
    name. A full stop after a word of four letters or more ends a sentence ("Clementine's. Please"),
    after a shorter one it marks an abbreviation ("Dr. Lee", "St. James")."""
    words: list[str] = []
    for word in name.split():
        words.append(word)
        if word.endswith(".") and len(word.rstrip(".")) >= 4:
            break
    while words and re.fullmatch(_JOIN, words[-1].lower()):
        words.pop()
    if not words or (len(words) == 1 and words[0].lower().rstrip(".") in _NOT_A_NAME):
        return None
    return " ".join(words).rstrip(".,!?;:")


def _said_as_area(text: str, start: int) -> bool:
    """Whether the name follows "near", "(far) from", "close to" or "in": an area, not the place."""
    before = text[max(0, start - 24) : start].lower()
    return re.search(r"\b(?:near|from|close to|in|around|outside)\s+(?:the\s+)?$", before) is not None


def _lower_case(text: str) -> str | None:
    match = _LOWER_POSSESSIVE.search(text)
    if match:
        return match.group("v")
    match = _LOWER_AT_THE.search(text)
    if match is None:
        return None
    name = _KIND_WORD.sub("", match.group("v"))  # "the golden dragon restaurant"; "the salon" is no name
    words = name.split()
    if not words or any(word in _NOT_A_PLACE for word in words) or words[0] in _NOT_A_NAME:
        return None
    return " ".join(words)
