"""The caller's own bookings: a page of them, and one by its reference. Bookings are made, changed
and cancelled by messages (the booking skills); these only show them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.booking_schemas import BookingOut, BookingPage
from api.deps import ProvidersDep, UserDep
from api.routes.messages import ERRORS
from api.routes.tasks import decode_cursor, encode_cursor
from api.routes.venues import booking_store
from domain.booking_services import get_booking, list_bookings
from domain.bookings import BookingStatus

router = APIRouter(tags=["bookings"])


@router.get("/v1/bookings", response_model=BookingPage, responses=ERRORS)
async def read_bookings(
    user: UserDep,
    providers: ProvidersDep,
    status: Literal["confirmed", "cancelled"] | None = None,
    upcoming: Annotated[bool, Query(description="Only bookings not over yet, soonest first")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> BookingPage:
    """The caller's confirmed and cancelled bookings, latest first (with `upcoming`, soonest first)."""
    found, next_id = await list_bookings(
        user,
        status=BookingStatus(status) if status else None,
        upcoming_after=providers.clock.now() if upcoming else None,
        limit=limit,
        cursor=decode_cursor(cursor),
        store=booking_store(providers),
    )
    return BookingPage(
        items=[BookingOut.of(b, user.timezone) for b in found], next_cursor=encode_cursor(next_id)
    )


@router.get("/v1/bookings/{ref}", response_model=BookingOut, responses=ERRORS)
async def read_booking(
    user: UserDep, providers: ProvidersDep, ref: Annotated[str, Path(min_length=1, max_length=32)]
) -> BookingOut:
    """One of the caller's bookings by its reference (any case). 404 for anyone else's."""
    found = await get_booking(user, ref, store=booking_store(providers))
    return BookingOut.of(found, user.timezone)
