"""The demo venues every user can book, open every day 08:00-23:00: seeded by `ops.cli venues seed`."""

from __future__ import annotations

from domain.bookings import (
    EVERY_DAY_8_TO_23,
    Resource,
    Venue,
    VenueKind,
    resource_id_for,
    slugify,
    venue_id_for,
)


def _venue(
    name: str,
    kind: VenueKind,
    timezone: str,
    resources: list[tuple[str, str, int]],
    *,
    aliases: tuple[str, ...] = (),
    services: dict[str, int] | None = None,
    default_minutes: int,
) -> Venue:
    slug = slugify(name)
    venue_id = venue_id_for(slug)
    return Venue(
        id=venue_id,
        slug=slug,
        name=name,
        kind=kind,
        timezone=timezone,
        hours=EVERY_DAY_8_TO_23,
        resources=tuple(
            Resource(resource_id_for(venue_id, rname), rname, rkind, seats)
            for rname, rkind, seats in resources
        ),
        aliases=aliases,
        services=services or {},
        default_minutes=default_minutes,
    )


def demo_venues(timezone: str) -> list[Venue]:
    """Two restaurants (tables by size, two hours a table), a salon and a dental clinic."""
    return [
        _venue(
            "Luigi's Trattoria",
            VenueKind.RESTAURANT,
            timezone,
            [
                ("Table 1", "table", 2),
                ("Table 2", "table", 2),
                ("Table 3", "table", 4),
                ("Table 4", "table", 4),
                ("Table 5", "table", 6),
                ("Table 6", "table", 8),
            ],
            aliases=("Luigi's", "Luigis"),
            default_minutes=120,
        ),
        _venue(
            "Golden Dragon",
            VenueKind.RESTAURANT,
            timezone,
            [
                ("Table 1", "table", 2),
                ("Table 2", "table", 4),
                ("Table 3", "table", 4),
                ("Table 4", "table", 6),
                ("Table 5", "table", 10),
            ],
            default_minutes=120,
        ),
        _venue(
            "Bella Hair Salon",
            VenueKind.SALON,
            timezone,
            [("Chair 1", "chair", 1), ("Chair 2", "chair", 1)],
            aliases=("Bella's", "Bellas", "Bella's salon"),
            services={"haircut": 45, "trim": 30, "colour": 90, "blow dry": 30, "shave": 30},
            default_minutes=45,
        ),
        _venue(
            "Riverside Dental",
            VenueKind.CLINIC,
            timezone,
            [("Room 1", "room", 1), ("Room 2", "room", 1)],
            aliases=("Riverside",),
            services={"check-up": 30, "cleaning": 45},
            default_minutes=30,
        ),
    ]
