"""What a reminder is about, read from the many ways people ask for one.

Few people say "remind me to ...": they say "don't let me miss my pills at lunchtime", "tell me at
five to take my tablets", "give me a nudge about the bins". The parser already knows these are
reminders; without the thing itself the conversation would have to ask "what should I remind you
about?" of someone who has just said it. These rules run on the text with its time cut out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from domain.party_size import NUMBER_WORDS
from domain.timeexpr import part_of_day_hour

_ME = r"(?:me|us)"
_TIME_FOR = r"(?:that|when)\s+it'?s\s+time\s+(?:to|for)"
_CONNECT = rf"(?:\s+(?:{_TIME_FOR}|to|about|of|that|for))?"
_REMIND = r"\br?e?mind(?:er|ed|ing)?"
_CUES = (
    rf"{_REMIND}\s+{_ME}\s+(?:{_TIME_FOR}|to|about|of|that)\b",
    rf"{_REMIND}\s+(?:{_ME}\s+)?(?:\S+\s+){{0,10}}?(?:{_TIME_FOR}|(?:for\s+{_ME}\s+)?to|about|that|for)\b",
    r"\b(?:don'?t|do\s+not|never)\s+let\s+me\s+(?:forget|miss)(?:\s+(?:to|about))?",
    r"\b(?:make|be)\s+sure\s+(?:that\s+)?i\s+(?:(?:remember|don'?t\s+(?:forget|miss)|do\s+not\s+(?:forget|miss))"
    r"(?:\s+(?:to|about))?|(?=take|use|have|ring|call|phone|go))",
    r"\bmake\s+me\s+(?:remember(?:\s+to)?|(?=take|use|have|ring|call|phone|go))",
    r"\bhelp\s+me\s+(?:to\s+)?(?:remember|not\s+(?:to\s+)?forget)(?:\s+(?:to|about|that))?",
    r"\bi\s+(?:mustn'?t|must\s+not|don'?t\s+want\s+to|do\s+not\s+want\s+to|can'?t|cannot|(?:always|keep)\s+)"
    r"\s*(?:forgetting|missing|forget|miss)\b(?:\s+(?:to|about))?",
    r"\bi\s+(?:(?:always|often|sometimes)\s+)?(?:forget|miss)\s+(?=my\b)",
    r"\bi\s+(?:must|need\s+to|have\s+to|should|'ve\s+got\s+to|ought\s+to)\s+remember(?:\s+(?:to|that))?",
    r"\bjog\s+my\s+memory(?:\s+(?:about|to|that|of))?",
    r"\b(?:tell|ask|get|prompt|nudge|ping|alert|warn|buzz|shout\s+at|say\s+to)\s+" + _ME + _CONNECT,
    r"\b(?:need|needs)\s+telling(?:\s+(?:to|about))?|\bbe\s+told(?:\s+(?:to|about))?",
    r"\b(?:nudge|shout|buzz|prompt|heads-up|heads\s+up|ring|call)\s+(?:to|about|for|that|before)",
    r"\bkeep\s+(?:me\s+(?:on\s+track|right)|on\s+at\s+me)\s+(?:with|about)",
    r"\bbring\s+(?:it\s+)?up(?:\s+that)?",
    rf"\blet\s+me\s+know(?:\s+(?:{_TIME_FOR}|that))?",
    r"\bmention(?=\s+(?:my|the)\b)|\bremember\s+(?:for\s+me\s+)?(?:that\b|(?=(?:my|the|to)\b))",
    r"\bso\s+(?:that\s+)?i\s+(?:remember(?:\s+to)?|don'?t\s+forget(?:\s+to)?|(?=take|use|ring|call|phone)\b)",
    r"\b(?:memo|note|reminder)(?:\s+for(?:\s+[\w ]+?)?)?\s*:",
    r"\breminder\s+(?=(?:take|use|have|ring|call|phone|go|buy|pay|put|check|get|water|feed|collect|pick|send|post)\b)",
    rf"{_REMIND}\s+{_ME}\b",
)
_TRIES = 8
"""Places per cue to look for the thing: a real request has one or two; a message that repeats a
cue hundreds of times ("tell me at tell me at ...") must not cost hundreds of scans."""
_LONGEST = 600
"""Characters read after a cue: more than a `what` may hold (500), and it keeps a 4,000-character
message of repeated cues from costing a scan of the rest of the message per cue."""
_ASKS_AGAIN = re.compile(r"^(?:tell|alert|remind|warn|ping|ask|nudge|let)\s+me\b", re.I)
"""A what that is itself a request ("a reminder to alert me to wish mum happy birthday"): read on."""
_LATER = re.compile(r"^(?:later(?:\s+on)?|again|too)\s+", re.I)
_CUE_PATTERNS = tuple(re.compile(cue, re.I) for cue in _CUES)
"""In order of trust: "remember to tell me to take my insulin" is about the insulin."""
_AHEAD = (
    r"(?:(?:on\s+)?the\s+(?P<day>day|night|evening)\s+before|"
    r"(?P<n>an?|one|two|three|four|five|six|half\s+an?|\d{1,2})\s+(?P<unit>minutes?|mins?|hours?|hrs?|days?)\s+"
    r"(?:before(?:hand)?|early|earlier|ahead)|"
    r"(?P<same>(?:that|the\s+same)\s+morning|on\s+the\s+(?:morning|day)(?!\s+before)))\b"
)
_END = re.compile(
    rf"\s*,?\s*\b{_AHEAD}|"
    r"\s*(?:,\s*(?=(?:\d|i|i'\w+|can|could|would|will|please|so|and|then|or|but|because|as|otherwise|every|each|"
    r"morning|evening|night|tell|it'?s|that'?s|thanks?)\b)|[;!?]|\.(?:\s|$)|\s-\s|"
    r"\b(?:and|so)\s+(?:tell|remind|let|i\b|that\s+i)|\b(?:can|could|would|will)\s+you\b|\bplease\b|\bthen\b|"
    r"\bif\s+you\s+(?:can|could|would|don'?t\s+mind)\b|\s+later(?:\s+on)?\s*$)",
    re.I,
)
"""Where the thing ends and the rest of the request begins: a lead time ("put the bins out, the
night before") or a new clause. A comma only ends it before a new clause, so "buy milk, eggs and
bread" stays whole."""
_LEAD = re.compile(rf"\b{_AHEAD}", re.I)
_MORNING_OF = re.compile(r"\bremind\s+me\s+(?P<same>in\s+the\s+morning)(?:\s+please)?\s*[.!]?\s*$", re.I)
"""A time said first, then "remind me in the morning": the morning of that day ("my grandson is
coming on saturday at 11, remind me in the morning")."""
_AHEAD_FIRST = re.compile(rf"^{_AHEAD}\s*", re.I)
_EMPTY = re.compile(
    r"^(?:(?:it|that|this|them|then|me|now|later|again|when|morning|evening|night|tonight|today|tomorrow)?$|"
    rf"(?:at|in|on|by|around|when|after|before|later)\s|{_AHEAD})",
    re.I,
)
"""Clauses that name no thing: a pronoun, or only when ("tell me at ten" with the time still in,
"remind me the day before")."""
_SAID_BEFORE = re.compile(
    r"^(?:(?:oh|well|so|right),?\s+)?(?:i(?:'ve|\s+have)?\s+(?:got\s+)?(?=(?:my|the|an?)\b)|there(?:'s|\s+is)\s+|it(?:'s|\s+is)\s+)?"
    r"(?P<w>.+?)[\s,.;-]*(?:\b(?:so|and)\s+)?(?:please\s+)?(?:(?:can|could|will|would)\s+you\s+)?"
    r"(?:please\s+)?remind\s+me\b",
    re.I,
)
"""The thing said first, the request after: "the bins go out tonight, remind me"."""
_DANGLING_VERB = re.compile(r"\s+(?:is|are|was|were)$", re.I)
"""Left when the time is cut out of "bin day is every tuesday": the thing is "bin day"."""
_FILLER = re.compile(
    r"^(?:(?:can|could|will|would)\s+you|please|oh|well|so|ok(?:ay)?|right|yes|hi|hello|hey|and|also)$", re.I
)
_FORMS = (
    r"(?:pills?|tablets?|capsules?|medicine|medication|meds|(?:eye\s+|ear\s+)?drops|inhaler|"
    r"injection|shot|patch)"
)
_NAMED = (
    r"(?:insulin|statin|antibiotics|painkillers|warfarin|metformin|aspirin|paracetamol|ibuprofen|levothyroxine|"
    r"amlodipine|ramipril|furosemide|omeprazole|simvastatin|atorvastatin|donepezil)"
)
_MODIFIERS = r"(?:(?!(?:my|your|the|a|an|his|her|some|more|to)\b)[\w'-]+\s+){0,2}"
"""Up to two words before a medicine's form ("blood pressure pills"), but never a determiner: in
"take my pills" the medicine is "pills"."""
_MEDICINE_WORD = re.compile(rf"\b(?:{_FORMS}|{_NAMED}|dose)\b", re.I)
_TAKEN = re.compile(
    r"\b(?:take|use|inject)\s+(?:my\s+|your\s+|the\s+|a\s+|an\s+|\d+\s+|one\s+|two\s+|three\s+)?"
    rf"(?P<m>{_MODIFIERS}{_FORMS}\b|{_NAMED}\b|[\w'-]+)",
    re.I,
)
_TAKING = re.compile(r"^\s*(?:take|have|use|inject|apply|put)\b", re.I)
_MEDICINE_NOUN = re.compile(
    rf"^(?:my|the|a|an|his|her|your)?\s*(?P<m>{_MODIFIERS}{_FORMS}|{_MODIFIERS}{_NAMED})$", re.I
)
_DOSE = re.compile(
    r"\b(?P<d>(?:\d+(?:\.\d+)?|one|two|three|half a|a half)\s*(?:tablets?|pills?|capsules?|mg|milligrams?|ml|"
    r"drops|puffs|units|spoons?|teaspoons?))\b",
    re.I,
)


def reminder_what(text: str, *, nested: bool = True) -> str | None:
    """The thing to be reminded of, in the person's words: "take my tablets", "the bins"."""
    for pattern in _CUE_PATTERNS:
        for cue in islice(pattern.finditer(text), _TRIES):
            said = _clause(text[cue.end() : cue.end() + _LONGEST])
            if said and nested and _ASKS_AGAIN.match(said):
                return reminder_what(said, nested=False) or said
            if said:
                return said
    return _said_before(text)


def _said_before(text: str) -> str | None:
    """The thing when it comes before the request: "i have the chiropodist on thursday, so remind
    me the day before" is about the chiropodist."""
    match = _SAID_BEFORE.match(text[:_LONGEST])
    if match is None:
        return None
    said = _DANGLING_VERB.sub("", match.group("w").strip(" ,.;:-"))
    return None if not said or _EMPTY.match(said) or _ASKS_AGAIN.match(said) or _FILLER.match(said) else said


@dataclass(frozen=True, slots=True)
class Lead:
    """How long before the time said a reminder should come ("an hour before", "the day before"),
    and at what hour when that is said too ("the night before": the day before, at 20:00)."""

    before: timedelta
    at_hour: int | None = None
    span: tuple[int, int] = (0, 0)
    """Where the lead is said: its words name the reminder's time, not the event's ("at 3, remind me
    in the morning" is 15:00, not 03:00), so the event's time is read without them."""


def lead_time(text: str) -> Lead | None:
    """ "remind me an hour before", "the night before", "2 days early", "that morning"."""
    match = _LEAD.search(text) or _morning_of(text)
    if match is None:
        return None
    if match.group("same"):
        return Lead(timedelta(0), part_of_day_hour("morning"), match.span("same"))
    span = match.span()
    if match.group("day"):
        return Lead(timedelta(days=1), part_of_day_hour(match.group("day")), span)  # "night": 20, "day": None
    word = match.group("n").lower()
    if word.startswith("half"):
        count = 0.5
    else:
        count = 1 if word in ("a", "an") else NUMBER_WORDS.get(word) or int(word)
    unit = match.group("unit").lower()
    if unit.startswith("d"):
        return Lead(timedelta(days=count), span=span)
    return Lead(timedelta(hours=count) if unit.startswith("h") else timedelta(minutes=count), span=span)


def _morning_of(text: str) -> re.Match[str] | None:
    """ "..., remind me in the morning" at the end, with something said first; alone it is just a time."""
    match = _MORNING_OF.search(text)
    return match if match and text[: match.start()].strip(" ,.;:-") else None


def medicine(text: str, what: str | None) -> str | None:
    """The medicine, when the reminder is about one: "take my heart pills" or just "my eye drops".
    A medicine reminder is escalated to family when it is not confirmed, so only named medicine
    counts, never a plain "take the washing out"."""
    if not _MEDICINE_WORD.search(text):
        return None
    noun = _MEDICINE_NOUN.match(what.strip()) if what and not _TAKING.match(what) else None
    taken = noun or _TAKEN.search(text)
    return taken.group("m").strip() if taken else None


def dose(text: str) -> str | None:
    match = _DOSE.search(text)
    return match.group("d").strip() if match else None


def _clause(after: str) -> str | None:
    """The words up to the end of the clause the cue opens, or None when they say nothing."""
    said = _AHEAD_FIRST.sub("", _LATER.sub("", after.strip()))  # "an hour before my appointment"
    end = _END.search(said)
    if end is not None:
        said = said[: end.start()]
    said = re.sub(r"^(?:to|about|of|that|for)\s+", "", said.strip().strip(".,!?;:'\"").strip(), flags=re.I)
    return None if _EMPTY.match(said) else said
