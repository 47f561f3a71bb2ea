"""Cue features for the intent classifier: small word lists that say what kind of request a
message is (a cancelling verb, a booking noun, a question about reminders...), and the pairs of
them that mark an intent ("no longer need" + "table" is a cancellation).

Why: the labelled data has only ~100 real utterances per small intent, so a word the data never
pairs with its intent ("delete the reservation", "is there a reminder...") is unknown to n-grams
alone, and the model fell back on the louder words ("reservation for 3 people" -> book). A cue
names the whole family of synonyms once. The cues form their own feature block (see
`providers.intent_classifier.blocks_of`); out-of-fold recall on train+validation, the test split
unseen, is in models/README.md.
"""

from __future__ import annotations

import re

_CUES = {
    "CANCEL": r"\b(cancel\w*|call(ing)? off|delete|remove|drop|scrap|release|undo|unbook|withdraw|"
    r"no longer|not going|not coming|can ?not make|can't make|cant make|won't make|wont make|"
    r"will not make|won't be (coming|able)|get rid of|back out|pull out|"
    r"don't need|dont need|do not need|won't need|wont need|will not need|"
    r"(not|n't|never) (gonna|going to) need)\b",
    "BOOKING": r"\b(reservations?|bookings?|booked|table|appointments?|reserved|dinner plans)\b",
    "VENUE": r"\b(restaurant|salon|hairdresser|barber|dentist|doctor|clinic|surgery|spa)\b",
    "REMIND": r"\b(remind\w*|remainders?|remember me|(don't|dont|do not) let me forget|"
    r"make sure i (remember|don't forget|dont forget|do not forget)|not to forget|"
    r"(tell|notify|alert|ping|nudge) me to|be (notified|told|alerted) to)\b",
    "ASK": r"^(do|does|did|is|are|was|were|have|has|what|which|when|any|how many|"
    r"(can|could|would|will) you (tell|check|read|list|show|look)|please (tell|check|read|list|show|look)|"
    r"list|read|show|tell me(?! to\b)|check|look|go over|review)\b|\?$",
    "CHECK": r"\b(check|verify|confirm\w*|make sure|ensure|assure|still (on|good|valid|set)|"
    r"is there|are there|do i have|did i)\b",
    "SET": r"^(please )?(set|add|make|create|put|schedule|remind|remember|don't let|dont let|"
    r"i need (a|to be)|i want (a|to be)|(can|could|would|will) you (set|add|remind|make|create|put))\b",
    "SEND": r"\b(text\w*|txt|sms|message|tell|let \w+ know|send|e-?mail|inform|notify|call|write to|"
    r"drop \w+ a line)\b",
    "REQUEST": r"^(please|can you|could you|would you|will you|i want|i need|i'd like|i would like|"
    r"go ahead and|help me)\b",
    "FAMILY": r"\b(mom|mum|mommy|mummy|mother|dad|daddy|father|parents|daughters?|sons?|sisters?|sis|"
    r"brothers?|bro|siblings?|wife|husband|spouse|grandsons?|granddaughters?|grandchild(ren)?|"
    r"grandkids|family|niece|nephew|aunt|auntie|uncle|cousins?|grandma|grandpa|granny|"
    r"grandmother|grandfather|kids|children|in-?laws)\b",
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
    ("REQUEST", "SEND"),
    ("CANCEL", "VENUE"),
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
