"""Venues (admin): list, add, seed the demo ones; and the callback where webhook venues answer."""

from __future__ import annotations

import uuid

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.booking_schemas import VenueAnswerIn, VenueIn, VenueOut
from api.deps import AdminDep, JsonOnly, ProvidersDep
from api.routes.messages import ERRORS
from domain.bookings import BookingStore
from domain.errors import InvalidInput, NotFound
from domain.venue_admin import add_venue, list_venues, record_venue_answer, seed_demo_venues, venue_json
from providers.venue_webhooks import verify
from providers.wiring import Providers

router = APIRouter(tags=["venues"])


def booking_store(providers: Providers) -> BookingStore:
    store: BookingStore = providers.skill_ports[BookingStore]  # type: ignore[type-abstract,assignment,unused-ignore]
    return store


@router.get("/v1/admin/venues", response_model=list[VenueOut], responses=ERRORS)
async def read_venues(_: AdminDep, providers: ProvidersDep) -> list[VenueOut]:
    """Every venue, with its resources, services and provider (secrets left out)."""
    venues = await list_venues(store=booking_store(providers))
    return [VenueOut.model_validate(venue_json(v)) for v in venues]


@router.post(
    "/v1/admin/venues", status_code=201, response_model=VenueOut, responses=ERRORS, dependencies=[JsonOnly]
)
async def create_venue(body: VenueIn, _: AdminDep, providers: ProvidersDep) -> VenueOut:
    """Add a venue. 409 when one with the same name exists; 422 for a bad time zone, hours or config."""
    venue = await add_venue(body.spec(), store=booking_store(providers))
    return VenueOut.model_validate(venue_json(venue))


@router.post("/v1/admin/venues/seed", response_model=list[VenueOut], responses=ERRORS)
async def seed_venues(_: AdminDep, providers: ProvidersDep) -> list[VenueOut]:
    """Create (or bring up to date) the demo venues; safe to call any number of times."""
    venues = await seed_demo_venues(providers.settings.booking_demo_timezone, store=booking_store(providers))
    return [VenueOut.model_validate(venue_json(v)) for v in venues]


@router.post("/v1/venue-callbacks/{booking_id}", status_code=204, response_class=Response, responses=ERRORS)
async def venue_callback(booking_id: uuid.UUID, request: Request, providers: ProvidersDep) -> Response:
    """A webhook venue's answer to a booking request, signed with the venue's secret (Standard
    Webhooks headers). 401 for a bad or stale signature; 404 for an unknown booking."""
    store = booking_store(providers)
    venue = await store.venue_of(booking_id)
    secret = venue.provider_config.get("secret") if venue is not None else None
    if not secret:
        raise NotFound("no such booking")
    body = await request.body()
    verify(secret, request.headers, body)
    try:
        answer = VenueAnswerIn.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise InvalidInput('send {"status": "confirmed"} or {"status": "refused"}') from exc
    await record_venue_answer(booking_id, answer.status, store=store)
    return Response(status_code=204)
