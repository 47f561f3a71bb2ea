"""Forgiving venue names: case, apostrophes, aliases and small typos, but only among known venues.

A name that matches no venue well, or two venues about equally, is a question for the person,
never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from domain.bookings import Venue, normalize_name

THRESHOLD = 86.0
"""WRatio score a name must reach: "Golden Dragn" and "Luigi" pass, "Golden Palace" and
"Bella Italia" do not."""
MARGIN = 5.0
"""Two venues scoring within this of each other are ambiguous."""
GENERIC = frozenset(
    {
        "restaurant", "trattoria", "salon", "hair salon", "hairdresser", "hairdressers", "barber",
        "clinic", "dentist", "dentists", "dental", "doctor", "doctors", "cafe", "pizzeria", "bar",
        "my restaurant", "my salon", "my dentist", "my doctor", "my hairdresser",
    }
)  # fmt: skip
"""Words that name a kind of place, not one place: never matched against a venue's name."""


@dataclass(frozen=True, slots=True)
class VenueMatch:
    venue: Venue | None
    """The one venue meant, when there is one."""
    candidates: tuple[Venue, ...] = ()
    """When ambiguous: the venues it could be, best first."""


def _score(said: str, venue: Venue) -> float:
    names = (venue.name, *venue.aliases)
    return max(float(fuzz.WRatio(said, normalize_name(name))) for name in names)


def match_venue(said: str | None, venues: Sequence[Venue]) -> VenueMatch:
    """The venue `said` names among `venues`, or none, or the few it could be."""
    cleaned = normalize_name(said or "")
    if not cleaned or cleaned in GENERIC:
        return VenueMatch(None)
    exact = [v for v in venues if cleaned in {normalize_name(n) for n in (v.name, *v.aliases)}]
    if len(exact) == 1:
        return VenueMatch(exact[0])
    scored = sorted(((_score(cleaned, v), v) for v in venues), key=lambda sv: -sv[0])
    good = [(s, v) for s, v in scored if s >= THRESHOLD]
    if not good:
        return VenueMatch(None)
    close = [v for s, v in good if good[0][0] - s < MARGIN]
    if len(close) == 1:
        return VenueMatch(close[0])
    return VenueMatch(None, tuple(close))
