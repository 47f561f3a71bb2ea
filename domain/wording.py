"""Composed replies in English and Swedish, written side by side.

A reply composed from a request's details ("Book a table for 4 at Luigi's, tomorrow (Tue 24 Nov)
at 19:00?") is a `Said`: a str whose text is the English, carrying its Swedish. Why a str: it goes
wherever a plain reply goes (an `Outcome`, a `Step`, a list of parts) without changing a
signature, and `domain.speech.localize` picks the language at the edge, where the person's
language is known (the API for its replies, `finish_reply` for a worker's). Each composing
function writes both sentences itself, so a Swedish sentence is a real sentence, not English
with its words swapped. Details the person gave (a venue's name, a message to send) are quoted
as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime


class Said(str):
    """English text that also knows its Swedish (`sv`)."""

    sv: str

    def __new__(cls, en: str, sv: str) -> Said:
        said = super().__new__(cls, en)
        said.sv = sv
        return said

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # copy and pickle keep `sv`
        return (str(self), self.sv)


def said(en: str, sv: str) -> Said:
    return Said(en, sv)


def swedish(text: str) -> str:
    """The Swedish of a composed reply; a plain text is its own (a venue's name, a number)."""
    return text.sv if isinstance(text, Said) else str(text)


def join(items: Sequence[str], word: str) -> str:
    """ "a, b and c": `word` is "and", "or", "och" or "eller"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def both_and(items: Sequence[str]) -> Said:
    """ "a, b and c" / "a, b och c", each part in its own language."""
    return said(join([str(i) for i in items], "and"), join([swedish(i) for i in items], "och"))


def both_or(items: Sequence[str]) -> Said:
    return said(join([str(i) for i in items], "or"), join([swedish(i) for i in items], "eller"))


WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
             "oktober", "november", "december")  # fmt: skip
_SHORT_MONTHS_SV = ("jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec")


def weekday_sv(moment: datetime) -> str:
    return WEEKDAYS_SV[moment.weekday()]


def short_weekday_sv(moment: datetime) -> str:
    return WEEKDAYS_SV[moment.weekday()][:3]


def short_date_sv(moment: datetime) -> str:
    """ "24 nov" """
    return f"{moment.day} {_SHORT_MONTHS_SV[moment.month - 1]}"


def clock_sv(moment: datetime) -> str:
    """ "kl. 19:00" """
    return f"kl. {moment:%H:%M}"


_MY_SV = {"min": "din", "mitt": "ditt", "mina": "dina", "mig": "dig", "jag": "du", "mej": "dig"}
_MY_SV_WORDS = re.compile(r"\b(" + "|".join(_MY_SV) + r")\b", re.IGNORECASE)


def you_form_sv(text: str) -> str:
    """Swedish words the person said about themselves, said back to them: "ta mina tabletter" ->
    "ta dina tabletter"."""
    return _MY_SV_WORDS.sub(lambda m: _MY_SV[m.group(1).lower()], text)


_RELATIONS_SV = {
    "daughter": "dotter", "son": "son", "wife": "fru", "husband": "man", "sister": "syster",
    "brother": "bror", "mother": "mamma", "mum": "mamma", "mom": "mamma", "father": "pappa",
    "dad": "pappa", "grandson": "barnbarn", "granddaughter": "barnbarn", "grandchildren": "barnbarn",
    "neighbour": "granne", "neighbor": "granne", "friend": "vän", "nurse": "sköterska",
    "doctor": "läkare", "carer": "vårdare", "caregiver": "vårdare", "family": "familj",
}  # fmt: skip
_NEUTER_SV = frozenset({"barnbarn"})


def relation_sv(relation: str) -> str:
    """ "daughter" -> "dotter"; a relation we have no Swedish for stays as it was given."""
    return _RELATIONS_SV.get(relation.strip().lower(), relation)


def contact_sv(contact: str) -> str:
    """ "my daughter" -> "din dotter"; a name ("Anna") stays as it is."""
    words = contact.strip().split()
    if len(words) == 2 and words[0].lower() in ("my", "min", "mitt", "mina"):
        relation = relation_sv(words[1])
        return f"{'ditt' if relation in _NEUTER_SV else 'din'} {relation}"
    return you_form_sv(contact)


_SWEDISH_LETTERS = re.compile(r"[åäöÅÄÖ]")
_WORD = re.compile(r"[a-zåäöéü']+")
_SWEDISH = (
    "och att det som är jag du inte en ett på för med har till av om vad kan min mitt mig dig hej tack "
    "ja nej boka påminn påminnelse imorgon idag klockan vill skulle gärna bord tid ringa mamma pappa "
    "hur när var vem snälla"
)
_ENGLISH = (
    "the and to of a is i you it that in for my me on with please what can book remind tomorrow today "
    "at hi hello thanks yes no table call"
)
_SWEDISH_WORDS = frozenset(_SWEDISH.split())
_ENGLISH_WORDS = frozenset(_ENGLISH.split())


def detect_language(text: str) -> str:
    """`sv` or `en` from the words of a message: good enough to pick the reply's language when the
    person has not set one. Ties and unknown languages are English."""
    words = _WORD.findall(text.lower())
    in_swedish = sum(w in _SWEDISH_WORDS for w in words) + 2 * len(_SWEDISH_LETTERS.findall(text))
    in_english = sum(w in _ENGLISH_WORDS for w in words)
    return "sv" if in_swedish > in_english else "en"
