"""Family contacts: who they are, what they agreed to be told, and how a spoken name finds one.

A person says "my daughter", "mum" or "Anna"; that phrase is matched against the person's own
contacts only, by name (case-insensitive, full or first name) or by relation (with synonyms:
mum, mom and mother are one). No match, or more than one, is never guessed: the task asks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from domain.wording import relation_sv, said

Topic = Literal["messages", "escalations", "bookings"]
"""What a contact may be told: the person's own messages (notify_family), escalations (a missed
medicine), booking confirmations."""
TOPICS: tuple[Topic, ...] = get_args(Topic)

SystemTopic = Literal["escalations", "bookings"]
"""Topics other parts of Errand notify on, without the person asking each time."""

MAX_CONTACTS = 50
"""Contacts per user: a family, not an address book; it also bounds the 'You have: …' question."""


@dataclass(frozen=True, slots=True)
class Contact:
    """A family member who can be notified. The webhook secret is deliberately not part of it, so
    that it cannot reach a log or an answer by accident (see SigningKeys)."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    relation: str | None
    """Canonical relation ('mother', 'daughter', …) or the person's own word for it."""
    webhook_url: str
    consents: frozenset[Topic]
    created_at: datetime
    updated_at: datetime

    def allows(self, topic: Topic) -> bool:
        return topic in self.consents

    @property
    def label(self) -> str:
        """'Anna (daughter)': how the contact is named in a question to the person."""
        return f"{self.name} ({self.relation})" if self.relation else self.name

    @property
    def label_sv(self) -> str:
        """'Anna (dotter)': the label in a Swedish question; a relation we cannot put in Swedish
        is kept as it was stored."""
        return f"{self.name} ({relation_sv(self.relation)})" if self.relation else self.name


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "mother": ("mum", "mom", "mother", "mummy", "mommy", "mam", "mama", "ma"),
    "father": ("dad", "father", "daddy", "papa", "pa"),
    "son": ("son",),
    "daughter": ("daughter",),
    "grandson": ("grandson",),
    "granddaughter": ("granddaughter",),
    "grandchild": ("grandchild", "grandkid"),
    "brother": ("brother", "bro"),
    "sister": ("sister", "sis"),
    "wife": ("wife",),
    "husband": ("husband",),
    "partner": ("partner",),
    "niece": ("niece",),
    "nephew": ("nephew",),
    "cousin": ("cousin",),
    "aunt": ("aunt", "auntie", "aunty"),
    "uncle": ("uncle",),
    "son-in-law": ("son-in-law",),
    "daughter-in-law": ("daughter-in-law",),
    "friend": ("friend",),
    "neighbour": ("neighbour", "neighbor"),
    "carer": ("carer", "caregiver", "care worker"),
}
_CANONICAL = {word: canonical for canonical, words in _SYNONYMS.items() for word in words}

_COVERS: dict[str, frozenset[str]] = {
    "grandchild": frozenset({"grandson", "granddaughter", "grandchild"}),
    "child": frozenset({"son", "daughter"}),
    "kid": frozenset({"son", "daughter"}),
    "parent": frozenset({"mother", "father"}),
}
"""Words that name any of several relations: 'my grandchild' finds a grandson or a granddaughter."""

_FILLER = re.compile(r"^(?:my|our|the|to)\s+")
_PUNCT = re.compile(r"[^\w\s'-]+")


def _key(text: str) -> str:
    """Lowercase, no punctuation, no leading 'my'/'the', one space between words."""
    cleaned = " ".join(_PUNCT.sub(" ", text.lower()).split())
    cleaned = cleaned.replace(" in law", "-in-law").replace(" in-law", "-in-law")
    while (stripped := _FILLER.sub("", cleaned)) != cleaned:
        cleaned = stripped
    return cleaned


def canonical_relation(text: str | None) -> str | None:
    """'Mum' -> 'mother'; a word we do not know is kept, lowercased; blank -> None."""
    if text is None:
        return None
    key = _key(text)
    return _CANONICAL.get(key, key) or None


def _relations_named(key: str) -> frozenset[str]:
    """The relations a phrase names: 'mum' -> {mother}, 'grandchild' -> {grandson, …}."""
    if key in _COVERS:
        return _COVERS[key]
    canonical = _CANONICAL.get(key, key)
    return _COVERS.get(canonical, frozenset({canonical}))


def _names(contact: Contact) -> set[str]:
    full = _key(contact.name)
    return {full, full.split(" ")[0]} if full else set()


def _matches(key: str, contact: Contact) -> bool:
    names = _names(contact)
    if key in names:
        return True
    if contact.relation and contact.relation in _relations_named(key):
        return True
    return any(_relation_and_name(key, name, contact.relation) for name in names)


def _relation_and_name(key: str, name: str, relation: str | None) -> bool:
    """'daughter anna' or 'anna my daughter': the relation and the name both agree."""
    if relation is None:
        return False
    rest = None
    if key.startswith(name + " "):
        rest = _key(key[len(name) + 1 :])
    elif key.endswith(" " + name):
        rest = _key(key[: -len(name) - 1])
    return rest is not None and relation in _relations_named(rest)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The contact a phrase names, or the candidates to ask about (several, or all when none)."""

    contact: Contact | None
    candidates: tuple[Contact, ...]


def contacts_named(phrase: str | None, contacts: Sequence[Contact]) -> tuple[Contact, ...]:
    """Every contact the phrase names (by name, relation or id): 'my daughter' may be two."""
    key = _key(phrase or "")
    return tuple(c for c in contacts if key and (_matches(key, c) or key == str(c.id)))


def resolve_contact(phrase: str | None, contacts: Sequence[Contact]) -> Resolution:
    """Exactly one of the person's contacts, or None with what to offer in the question."""
    found = contacts_named(phrase, contacts)
    if len(found) == 1:
        return Resolution(found[0], found)
    return Resolution(None, found or tuple(contacts))


QUESTION_LIMIT = 6


def who_question(resolution: Resolution) -> str:
    """'Who should I send it to? You have: Anna (daughter), Tom (son).' (a `Said`, with its
    Swedish, when there are contacts to list)."""
    if not resolution.candidates:
        return "Who should I send it to? You have no contacts yet: add one in the app, then tell me."
    shown = resolution.candidates[:QUESTION_LIMIT]
    more = len(resolution.candidates) - len(shown)
    listing = ", ".join(c.label for c in shown) + (f" and {more} more" if more else "")
    listing_sv = ", ".join(c.label_sv for c in shown) + (f" och {more} till" if more else "")
    return said(
        f"Who should I send it to? You have: {listing}.",
        f"Vem ska jag skicka det till? Du har: {listing_sv}.",
    )


def consents_of(values: Iterable[str]) -> frozenset[Topic]:
    return frozenset(t for t in TOPICS if t in set(values))
