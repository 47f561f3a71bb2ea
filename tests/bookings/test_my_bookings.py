"""GET /v1/bookings and GET /v1/bookings/{ref}: a person's own bookings, filtered and paged; anyone
else's are a 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.bookings import Venue
from providers.wiring import Providers
from tests.bookings.conftest import MovableClock, at, book, booking_task, context, fresh_day, run_skill
from tests.conftest import new_user

PROBLEM = "application/problem+json"


async def _bookings(
    providers: Providers, user_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Four bookings: one three days ago, then three upcoming, of which the second is cancelled.
    Returns their task results in that order."""
    past_day = datetime.now(UTC).date() - timedelta(days=3)
    ctx = context(providers, MovableClock(at(past_day, "09:00")))
    past = await book(
        providers, ctx, user_id, "book_restaurant",
        {"venue": "Golden Dragon", "party_size": 2, "start": at(past_day, "12:00").isoformat()},
    )  # fmt: skip
    first, second, third = fresh_day(), fresh_day(), fresh_day()
    ctx = context(providers, MovableClock(at(first, "09:00") - timedelta(days=1)))
    soon = await book(
        providers, ctx, user_id, "book_restaurant",
        {"venue": "Luigi's", "party_size": 3, "start": at(first, "19:00").isoformat()},
    )  # fmt: skip
    cancelled = await book(
        providers, ctx, user_id, "book_appointment",
        {"venue": "Riverside Dental", "service": "check-up", "start": at(second, "10:00").isoformat()},
    )  # fmt: skip
    later = await book(
        providers, ctx, user_id, "book_appointment",
        {"venue": "Bella's", "service": "haircut", "start": at(third, "14:00").isoformat()},
    )  # fmt: skip
    assert cancelled.result is not None
    cancelling = await booking_task(
        providers, user_id, "cancel_booking", {"booking_ref": cancelled.result["ref"]}
    )
    assert (await run_skill(providers, cancelling, ctx)).status.value == "succeeded"
    results = (past.result, soon.result, cancelled.result, later.result)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=headers)).json()["id"])


async def _refs(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[str]:
    response = await client.get(f"/v1/bookings{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [b["ref"] for b in response.json()["items"]]


async def test_own_bookings_filtered_paged_and_found_by_reference(
    providers: Providers, client: httpx.AsyncClient, venues: dict[str, Venue]
) -> None:
    headers = await new_user(client, timezone="Europe/Stockholm")
    past, soon, cancelled, later = await _bookings(providers, await _me(client, headers))
    refs = [b["ref"] for b in (past, soon, cancelled, later)]

    assert await _refs(client, headers, "") == refs[::-1], "latest first"
    assert await _refs(client, headers, "?upcoming=true") == refs[1:], "soonest first, nothing over"
    assert await _refs(client, headers, "?status=cancelled") == [cancelled["ref"]]
    assert await _refs(client, headers, "?status=confirmed&upcoming=true") == [soon["ref"], later["ref"]]

    pages: list[str] = []
    cursor = ""
    for _ in range(3):
        page = await client.get(f"/v1/bookings?limit=3{cursor}", headers=headers)
        assert page.status_code == 200, page.text
        pages += [b["ref"] for b in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        cursor = f"&cursor={page.json()['next_cursor']}"
    assert pages == refs[::-1]

    one = await client.get(f"/v1/bookings/{soon['ref'].lower()}", headers=headers)
    assert one.status_code == 200, one.text
    assert one.json() | {"id": None, "confirmed_at": None} == {
        "id": None,
        "ref": soon["ref"],
        "status": "confirmed",
        "venue": "Luigi's Trattoria",
        "venue_id": str(venues["luigis-trattoria"].id),
        "start": soon["start"],
        "end": soon["end"],
        "party_size": 3,
        "service": None,
        "confirmed_at": None,
        "cancelled_at": None,
    }
    gone = (await client.get(f"/v1/bookings/{cancelled['ref']}", headers=headers)).json()
    assert gone["status"] == "cancelled" and gone["cancelled_at"] is not None
    assert gone["service"] == "check-up" and gone["venue"] == "Riverside Dental"


async def test_another_users_booking_is_not_found(
    providers: Providers, client: httpx.AsyncClient, venues: dict[str, Venue]
) -> None:
    owner = await new_user(client, timezone="Europe/Stockholm")
    _, soon, _, _ = await _bookings(providers, await _me(client, owner))
    stranger = await new_user(client)
    day = fresh_day()
    ctx = context(providers, MovableClock(at(day, "09:00") - timedelta(days=1)))
    own = await book(
        providers, ctx, await _me(client, stranger), "book_restaurant",
        {"venue": "Golden Dragon", "party_size": 2, "start": at(day, "13:00").isoformat()},
    )  # fmt: skip
    assert own.result is not None

    theirs = await client.get(f"/v1/bookings/{soon['ref']}", headers=stranger)
    assert theirs.status_code == 404 and theirs.headers["content-type"] == PROBLEM
    assert (await client.get("/v1/bookings/LT-ZZZZ", headers=owner)).status_code == 404
    assert await _refs(client, stranger, "") == [own.result["ref"]]
    page = await client.get("/v1/bookings?upcoming=true&limit=1", headers=owner)
    their_cursor = page.json()["next_cursor"]  # just after the owner's soonest booking
    assert await _refs(client, stranger, f"?upcoming=true&cursor={their_cursor}") == [], (
        "another's booking id is no place to start a page from"
    )


async def test_bad_parameters_are_422_problems(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for query in ("?status=held", "?limit=0", "?limit=201", "?cursor=%25%25", "?upcoming=maybe"):
        response = await client.get(f"/v1/bookings{query}", headers=auth)
        assert response.status_code == 422, (query, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert (await client.get("/v1/bookings")).status_code == 401
