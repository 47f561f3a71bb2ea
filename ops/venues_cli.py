"""`python -m ops.cli venues list|add|seed`: the bookings slice's operator commands.

python -m ops.cli venues list
python -m ops.cli venues seed [--timezone Europe/Stockholm]
python -m ops.cli venues add NAME --kind restaurant --resource "Table 1:4" [--resource ...]
    [--alias A] [--service "check-up:30"] [--timezone Z] [--default-minutes N]
    [--provider local|google|webhook] [--config key=value]
"""

from __future__ import annotations

import argparse
from typing import Any

from domain.bookings import BookingStore
from domain.errors import InvalidInput
from domain.venue_admin import ResourceSpec, VenueSpec, add_venue, list_venues, seed_demo_venues, venue_json
from providers.wiring import Providers


def add_parser(commands: Any) -> None:
    venues = commands.add_parser("venues", help="venues that take bookings").add_subparsers(
        dest="venues", required=True
    )
    venues.add_parser("list", help="every venue")
    seed = venues.add_parser("seed", help="create or update the demo venues (idempotent)")
    seed.add_argument("--timezone", default=None, help="default: ERRAND_BOOKING_DEMO_TIMEZONE")
    add = venues.add_parser("add", help="add a venue")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=["restaurant", "salon", "clinic"])
    add.add_argument("--resource", action="append", default=[], help="NAME:CAPACITY[:KIND], repeatable")
    add.add_argument("--alias", action="append", default=[])
    add.add_argument("--service", action="append", default=[], help="NAME:MINUTES, repeatable")
    add.add_argument("--timezone", default="UTC")
    add.add_argument("--default-minutes", type=int, default=None)
    add.add_argument("--provider", default="local", choices=["local", "google", "webhook"])
    add.add_argument("--config", action="append", default=[], help="KEY=VALUE provider setting, repeatable")


async def run(args: argparse.Namespace, providers: Providers) -> Any:
    store: BookingStore = providers.skill_ports[BookingStore]  # type: ignore[type-abstract,assignment,unused-ignore]
    if args.venues == "list":
        return [venue_json(v) for v in await list_venues(store=store)]
    if args.venues == "seed":
        zone = args.timezone or providers.settings.booking_demo_timezone
        return [venue_json(v) for v in await seed_demo_venues(zone, store=store)]
    return venue_json(await add_venue(_spec(args), store=store))


def _spec(args: argparse.Namespace) -> VenueSpec:
    return VenueSpec(
        name=args.name,
        kind=args.kind,
        resources=[_resource(text) for text in args.resource],
        timezone=args.timezone,
        aliases=args.alias,
        services=dict(_pair(text, ":", int) for text in args.service),
        default_minutes=args.default_minutes,
        provider=args.provider,
        provider_config=dict(_pair(text, "=", str) for text in args.config),
    )


def _resource(text: str) -> ResourceSpec:
    parts = text.split(":")
    try:
        return ResourceSpec(
            parts[0], int(parts[1]) if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else "table"
        )
    except ValueError:
        raise InvalidInput(f"--resource takes NAME:CAPACITY[:KIND], not {text!r}") from None


def _pair(text: str, sep: str, convert: Any) -> tuple[str, Any]:
    name, found, value = text.rpartition(sep)
    try:
        if not found or not name:
            raise ValueError(text)
        return name, convert(value)
    except ValueError:
        raise InvalidInput(f"expected NAME{sep}VALUE, not {text!r}") from None
