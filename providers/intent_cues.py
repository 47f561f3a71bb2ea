"""Cue features for the intent classifier: small word lists that say what kind of request a
message is (a cancelling verb, a booking noun, a question about reminders...), and the pairs of
them that mark an intent ("no longer need" + "table" is a cancellation).

Why: the labelled data has only ~100 real utterances per small intent, so a word the data never
pairs with its intent ("delete the reservation", "is there a reminder...") is unknown to n-grams
alone, and the model fell back on the louder words ("reservation for 3 people" -> book). A cue
names the whole family of synonyms once. Measured by 5-fold cross-validation on train+validation
(the test split unseen): cancel_booking recall 0.911 -> 0.962, list_reminders 0.934 -> 0.989,
booking_status 0.921 -> 0.961, at a false-action rate of 0.24 %.
"""

from __future__ import annotations

import re

_CUES = {
    "CANCEL": r"\b(cancel\w*|call(ing)? off|delete|remove|drop|scrap|release|undo|unbook|withdraw|"
    r"no longer|not going|not coming|can ?not make|can't make|cant make|won't make|wont make|"
    r"will not make|won't be (coming|able)|get rid of|back out|pull out|"
    r"don't need|dont need|do not need)\b",
    "BOOKING": r"\b(reservations?|bookings?|booked|table|appointments?|reserved|dinner plans)\b",
    "REMIND": r"\b(remind\w*|remainders?)\b",
    "ASK": r"^(do|does|did|is|are|was|were|have|has|what|which|when|any|how many|"
    r"(can|could|would|will) you (tell|check|read|list|show|look)|please (tell|check|read|list|show|look)|"
    r"list|read|show|tell me|check|look|go over|review)\b|\?$",
    "CHECK": r"\b(check|verify|confirm\w*|make sure|ensure|assure|still (on|good|valid|set)|"
    r"is there|are there|do i have|did i)\b",
    "SET": r"^(please )?(set|add|make|create|put|schedule|remind|remember|don't let|dont let|"
    r"i need (a|to be)|i want (a|to be)|(can|could|would|will) you (set|add|remind|make|create|put))\b",
    "SEND": r"\b(text|message|tell|let \w+ know|send|email|inform|notify|call)\b",
    "FAMILY": r"\b(mom|mum|mother|dad|father|daughter|son|sister|brother|wife|husband|grandson|"
    r"granddaughter|grandchildren|family|niece|nephew|aunt|uncle|grandma|grandpa|grandmother|"
    r"grandfather|kids|children)\b",
}
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _CUES.items())
PAIRS = (
    ("CANCEL", "BOOKING"),
    ("ASK", "REMIND"),
    ("CHECK", "REMIND"),
    ("ASK", "BOOKING"),
    ("CHECK", "BOOKING"),
    ("SET", "REMIND"),
    ("SEND", "FAMILY"),
    ("CANCEL", "REMIND"),
)
"""The pairs a linear model cannot form from the single cues itself."""

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def cues(text: str) -> list[str]:
    """Names of the cues and cue pairs present, as `x NAME` / `x A+B` (upper case, so they can
    never collide with a word n-gram, whose tokens are lower case)."""
    normalised = " ".join(text.lower().translate(_APOSTROPHES).split())
    present = {name for name, pattern in _COMPILED if pattern.search(normalised)}
    found = [f"x {name}" for name, _ in _COMPILED if name in present]
    found += [f"x {a}+{b}" for a, b in PAIRS if a in present and b in present]
    return found
