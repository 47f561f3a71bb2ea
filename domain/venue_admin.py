"""Managing venues (admin API and CLI): validate what an operator gives, add, list, seed the demo.

Validation raises InvalidInput (a 422 on the API), so a bad venue never reaches the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from domain.bookings import (
    EVERY_DAY_8_TO_23,
    BookingStore,
    ProviderName,
    Resource,
    Venue,
    VenueKind,
    format_hours,
    parse_hours,
    resource_id_for,
    slugify,
    venue_id_for,
)
from domain.demo_venues import demo_venues
from domain.errors import InvalidInput, NotFound
from domain.users import valid_timezone


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    capacity: int = 1
    kind: str = "table"
    calendar_id: str | None = None


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """A venue as an operator describes it."""

    name: str
    kind: str
    resources: Sequence[ResourceSpec]
    timezone: str = "UTC"
    aliases: Sequence[str] = ()
    hours: Mapping[str, Sequence[Sequence[str]]] | None = None
    """{"mon": [["08:00", "23:00"]], ...}; None: every day 08:00-23:00."""
    services: Mapping[str, int] = field(default_factory=dict)
    default_minutes: int | None = None
    """None: 120 for a restaurant (a table), else 60, or the first service's length."""
    slot_minutes: int = 30
    provider: str = "local"
    provider_config: Mapping[str, str] = field(default_factory=dict)
    owner_user_id: uuid.UUID | None = None


def build_venue(spec: VenueSpec) -> Venue:
    """The venue, checked. Raises InvalidInput naming the first thing wrong."""
    kind = _choice(VenueKind, spec.kind, "kind")
    provider = _choice(ProviderName, spec.provider, "provider")
    slug = slugify(spec.name)
    venue_id = venue_id_for(slug)
    _check_resources(spec.resources)
    _check_services(spec.services)
    _check_provider(provider, spec.provider_config)
    return Venue(
        id=venue_id,
        slug=slug,
        name=spec.name.strip(),
        kind=kind,
        timezone=valid_timezone(spec.timezone),
        hours=parse_hours(spec.hours) if spec.hours is not None else EVERY_DAY_8_TO_23,
        resources=tuple(
            Resource(resource_id_for(venue_id, r.name), r.name.strip(), r.kind, r.capacity, r.calendar_id)
            for r in spec.resources
        ),
        aliases=tuple(a.strip() for a in spec.aliases if a.strip()),
        services=dict(spec.services),
        default_minutes=spec.default_minutes or _default_minutes(kind, spec.services),
        slot_minutes=spec.slot_minutes,
        provider=provider,
        provider_config=dict(spec.provider_config),
        owner_user_id=spec.owner_user_id,
    )


E = TypeVar("E", VenueKind, ProviderName)


def _choice(enum: type[E], value: str, what: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(f"{what} must be one of {', '.join(e.value for e in enum)}") from None


def _check_resources(resources: Sequence[ResourceSpec]) -> None:
    if not resources:
        raise InvalidInput("a venue needs at least one resource (a table, a chair, a room)")
    names = [r.name.strip().lower() for r in resources]
    if len(set(names)) != len(names) or not all(names):
        raise InvalidInput("resource names must be non-empty and distinct")
    if any(r.capacity < 1 for r in resources):
        raise InvalidInput("a resource's capacity must be at least 1")


def _check_services(services: Mapping[str, int]) -> None:
    if any(minutes < 5 or minutes > 24 * 60 for minutes in services.values()):
        raise InvalidInput("a service lasts between 5 minutes and a day")


def _check_provider(provider: ProviderName, config: Mapping[str, str]) -> None:
    needed = {ProviderName.GOOGLE: ("calendar_id",), ProviderName.WEBHOOK: ("url", "secret")}.get(
        provider, ()
    )
    missing = [key for key in needed if not config.get(key)]
    if missing:
        raise InvalidInput(f"a {provider.value} venue needs provider_config {', '.join(missing)}")


def _default_minutes(kind: VenueKind, services: Mapping[str, int]) -> int:
    if kind is VenueKind.RESTAURANT:
        return 120
    return next(iter(services.values()), 60)


async def add_venue(spec: VenueSpec, *, store: BookingStore) -> Venue:
    """Raises InvalidInput for a bad venue, Conflict when one with this name exists."""
    return await store.add_venue(build_venue(spec))


async def list_venues(*, store: BookingStore) -> list[Venue]:
    return await store.venues(None)


async def seed_demo_venues(timezone: str, *, store: BookingStore) -> list[Venue]:
    """Idempotent: the demo venues are upserted by slug, with deterministic ids."""
    return [await store.upsert_venue(venue) for venue in demo_venues(valid_timezone(timezone))]


async def record_venue_answer(booking_id: uuid.UUID, answer: str, *, store: BookingStore) -> None:
    """A webhook venue's answer to a booking request. InvalidInput for an unknown answer, NotFound
    for an unknown booking. Recording it twice is harmless."""
    if answer not in ("confirmed", "refused"):
        raise InvalidInput("status must be 'confirmed' or 'refused'")
    if not await store.set_venue_answer(booking_id, answer):
        raise NotFound("no such booking")


def venue_json(venue: Venue) -> dict[str, object]:
    """A venue as the admin API and the CLI show it (secrets in provider_config left out)."""
    return {
        "id": str(venue.id),
        "slug": venue.slug,
        "name": venue.name,
        "kind": venue.kind.value,
        "aliases": list(venue.aliases),
        "timezone": venue.timezone,
        "hours": format_hours(venue.hours),
        "resources": [
            {"name": r.name, "kind": r.kind, "capacity": r.capacity, "calendar_id": r.calendar_id}
            for r in venue.resources
        ],
        "services": dict(venue.services),
        "default_minutes": venue.default_minutes,
        "slot_minutes": venue.slot_minutes,
        "provider": venue.provider.value,
        "provider_config": {k: v for k, v in venue.provider_config.items() if k != "secret"},
        "owner_user_id": str(venue.owner_user_id) if venue.owner_user_id else None,
    }
