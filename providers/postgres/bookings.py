"""Venues and the booking ledger in PostgreSQL.

The exclusion constraint `bookings_no_overlap` is what prevents a double booking: a hold is one
INSERT of the best free resource with ON CONFLICT DO NOTHING, so of many concurrent attempts at
the last slot exactly one row goes in and the others see nothing inserted and try the next
resource, or give up. The partial unique index on task_id makes a re-run of a task find its own
hold instead of taking a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from domain.bookings import (
    Booking,
    BookingListing,
    BookingQuery,
    BookingStatus,
    HoldRequest,
    Interval,
    ProviderName,
    Resource,
    Venue,
    VenueKind,
    booking_ref,
    fitting,
    format_hours,
    parse_hours,
)
from domain.errors import Conflict
from domain.ids import uuid7

_BOOKING_COLUMNS = """id, ref, user_id, task_id, venue_id, resource_id, starts_at, ends_at, party_size,
    service, status, hold_expires_at, confirming, external_id, confirmed_at, cancelled_at"""

_VENUE_SELECT = """
SELECT v.*, coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name, 'kind', r.kind,
                                                         'capacity', r.capacity, 'calendar_id', r.calendar_id)
                                       ORDER BY r.name)
                      FROM venue_resources r WHERE r.venue_id = v.id), '[]'::jsonb) AS resources
FROM venues v
"""
_VENUES = (
    _VENUE_SELECT
    + "WHERE $1::uuid IS NULL OR v.owner_user_id IS NULL OR v.owner_user_id = $1 ORDER BY v.name"
)
_VENUE_OF_BOOKING = _VENUE_SELECT + "WHERE v.id = (SELECT venue_id FROM bookings WHERE id = $1)"

_UPSERT_VENUE = """
INSERT INTO venues AS v (id, slug, name, kind, aliases, timezone, hours, services, default_minutes,
                         slot_minutes, provider, provider_config, owner_user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (slug) DO UPDATE SET name = excluded.name, kind = excluded.kind, aliases = excluded.aliases,
    timezone = excluded.timezone, hours = excluded.hours, services = excluded.services,
    default_minutes = excluded.default_minutes, slot_minutes = excluded.slot_minutes,
    provider = excluded.provider, provider_config = excluded.provider_config,
    owner_user_id = excluded.owner_user_id, updated_at = now()
WHERE $14
RETURNING v.id
"""

_UPSERT_RESOURCES = """
INSERT INTO venue_resources (id, venue_id, name, kind, capacity, calendar_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[])
ON CONFLICT (venue_id, name) DO UPDATE SET kind = excluded.kind, capacity = excluded.capacity,
    calendar_id = excluded.calendar_id
"""

# A hold nobody will confirm stops blocking its slot: one that lapsed, and one whose task was
# cancelled (release_task_hold frees those at once where the cancelling side can reach the ledger;
# a "no" said in the conversation cannot, so the next one to want the slot finds it free all the
# same). Other holds of the task (for an earlier version of the request) are given up, so the
# one-live-booking-per-task rule holds.
_ABANDONED = "EXISTS (SELECT 1 FROM tasks t WHERE t.id = {b}.task_id AND t.status = 'cancelled')"

_CLEAR_WAY = f"""
UPDATE bookings b SET status = CASE WHEN hold_expires_at <= $2 THEN 'expired' ELSE 'released' END,
                      confirming = false, updated_at = now()
WHERE status = 'held' AND (
    (task_id = $1 AND (hold_expires_at <= $2 OR venue_id <> $3 OR starts_at <> $4 OR ends_at <> $5
                       OR party_size <> $6 OR service IS DISTINCT FROM $7))
    OR (venue_id = $3 AND tstzrange(starts_at, ends_at) && tstzrange($4, $5)
        AND (hold_expires_at <= $2 OR {_ABANDONED.format(b="b")})))
"""

_HOLD = f"""
WITH mine AS (
    SELECT {_BOOKING_COLUMNS} FROM bookings WHERE task_id = $2 AND status IN ('held', 'confirmed')
), cand AS (
    SELECT r.id FROM venue_resources r
    WHERE r.venue_id = $5 AND r.capacity >= $9 AND NOT (r.id = ANY($12::uuid[]))
      AND NOT EXISTS (SELECT 1 FROM mine)
      AND NOT EXISTS (SELECT 1 FROM bookings o
                      WHERE o.resource_id = r.id AND o.status IN ('held', 'confirmed')
                        AND tstzrange(o.starts_at, o.ends_at) && tstzrange($6, $7))
    ORDER BY r.capacity, r.name
    LIMIT 1
), ins AS (
    INSERT INTO bookings (id, ref, user_id, task_id, venue_id, resource_id, starts_at, ends_at, party_size,
                          service, status, hold_expires_at, confirming)
    SELECT $1, $3, $4, $2, $5, cand.id, $6, $7, $9, $10, 'held', $8, $11 FROM cand
    ON CONFLICT DO NOTHING
    RETURNING {_BOOKING_COLUMNS}
)
SELECT EXISTS (SELECT 1 FROM cand) AS had_candidate, b.*
FROM (SELECT 1) AS one LEFT JOIN (SELECT * FROM ins UNION ALL SELECT * FROM mine) AS b ON true
LIMIT 1
"""

_FREE = f"""
SELECT c.i, coalesce(array_agg(r.id) FILTER (WHERE r.id IS NOT NULL), '{{}}') AS free
FROM unnest($3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS c(s, e, i)
LEFT JOIN venue_resources r ON r.venue_id = $1 AND r.capacity >= $2 AND NOT EXISTS (
    SELECT 1 FROM bookings o WHERE o.resource_id = r.id
      AND (o.status = 'confirmed'
           OR (o.status = 'held' AND o.hold_expires_at > $5 AND NOT {_ABANDONED.format(b="o")}))
      AND tstzrange(o.starts_at, o.ends_at) && tstzrange(c.s, c.e))
GROUP BY c.i ORDER BY c.i
"""

_FIND = f"""
SELECT {_BOOKING_COLUMNS} FROM bookings
WHERE user_id = $1
  AND (status = 'confirmed' OR (status = 'cancelled' AND $6::uuid IS NOT NULL AND cancelled_by_task = $6))
  AND ($2::text IS NULL OR ref = upper($2))
  AND ($3::uuid[] IS NULL OR venue_id = ANY($3))
  AND ($4::timestamptz IS NULL OR (starts_at >= $4 AND starts_at < $5))
  AND ($7::timestamptz IS NULL OR ends_at > $7)
ORDER BY starts_at
LIMIT 20
"""


# Keyset pages on (starts_at, id): the cursor is a booking id, looked up among the user's own (an
# id of someone else's gives an empty page, not their place in the list).
_OWN_LISTED = f"""
SELECT {_BOOKING_COLUMNS} FROM bookings
WHERE user_id = $1 AND status = ANY($2::text[]) AND ($3::timestamptz IS NULL OR ends_at > $3)
  AND ($4::uuid IS NULL
       OR (starts_at, id) {{after}} (SELECT starts_at, id FROM bookings WHERE id = $4 AND user_id = $1))
ORDER BY starts_at {{order}}, id {{order}}
LIMIT $5
"""
_SOONEST_FIRST = _OWN_LISTED.format(after=">", order="ASC")
_LATEST_FIRST = _OWN_LISTED.format(after="<", order="DESC")


class PostgresBookingStore:
    """BookingStore over a pool: each method is one statement (a hold is two), each atomic alone."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def venues(self, user_id: uuid.UUID | None) -> list[Venue]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_VENUES, user_id)
        return [_venue(r) for r in rows]

    async def add_venue(self, venue: Venue) -> Venue:
        if not await self._save_venue(venue, replace=False):
            raise Conflict(f"a venue named {venue.name!r} exists already")
        return venue

    async def upsert_venue(self, venue: Venue) -> Venue:
        await self._save_venue(venue, replace=True)
        return venue

    async def _save_venue(self, venue: Venue, *, replace: bool) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            saved = await conn.fetchval(_UPSERT_VENUE, *_venue_args(venue), replace)
            if saved is None:
                return False
            await conn.execute(_UPSERT_RESOURCES, *_resource_columns(venue))
        return True

    async def hold(self, request: HoldRequest) -> Booking | None:
        async with self._pool.acquire() as conn:
            await _retrying(conn, _CLEAR_WAY, *_clear_args(request))
            for _ in range(len(fitting(request.venue, request.party_size)) + 3):
                row = await _retrying(conn, _HOLD, *_hold_args(request))
                if row is not None and row["id"] is not None:
                    return _booking(row)
                if row is not None and not row["had_candidate"]:
                    return None
                # Lost a race for that resource (or drew a reference in use): look again.
        return None

    async def free_resources(
        self, venue: Venue, party_size: int, slots: Sequence[Interval], now: datetime
    ) -> list[frozenset[uuid.UUID]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                _FREE, venue.id, party_size, [s for s, _ in slots], [e for _, e in slots], now
            )
        return [frozenset(r["free"]) for r in rows]

    async def for_task(self, task_id: uuid.UUID) -> Booking | None:
        return await self._one(
            f"""SELECT {_BOOKING_COLUMNS} FROM bookings WHERE task_id = $1
                ORDER BY created_at DESC, id DESC LIMIT 1""",
            task_id,
        )

    async def mark_confirming(self, booking_id: uuid.UUID, now: datetime, until: datetime) -> Booking | None:
        return await self._one(
            f"""UPDATE bookings SET confirming = true, hold_expires_at = $3, updated_at = now()
                WHERE id = $1 AND status = 'held' AND hold_expires_at > $2 RETURNING {_BOOKING_COLUMNS}""",
            booking_id,
            now,
            until,
        )

    async def confirm(self, booking_id: uuid.UUID, now: datetime, external_id: str | None) -> Booking | None:
        done = await self._one(
            f"""UPDATE bookings SET status = 'confirmed', confirmed_at = $2, external_id = $3,
                       hold_expires_at = NULL, updated_at = now()
                WHERE id = $1 AND status = 'held' RETURNING {_BOOKING_COLUMNS}""",
            booking_id,
            now,
            external_id,
        )
        if done is not None:
            return done
        current = await self._by_id(booking_id)
        return current if current is not None and current.status is BookingStatus.CONFIRMED else None

    async def release(self, booking_id: uuid.UUID, status: BookingStatus) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                """UPDATE bookings SET status = $2, confirming = false, updated_at = now()
                   WHERE id = $1 AND status IN ('held', 'expired')""",
                booking_id,
                status.value,
            )

    async def cancel(self, booking_id: uuid.UUID, by_task: uuid.UUID | None, now: datetime) -> Booking | None:
        done = await self._one(
            f"""UPDATE bookings SET status = 'cancelled', cancelled_at = $3, cancelled_by_task = $2,
                       confirming = false, updated_at = now()
                WHERE id = $1 AND status IN ('held', 'confirmed') RETURNING {_BOOKING_COLUMNS}""",
            booking_id,
            by_task,
            now,
        )
        return done or await self._by_id(booking_id)

    async def find(self, user_id: uuid.UUID, query: BookingQuery) -> list[Booking]:
        day_start, day_end = query.day or (None, None)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                _FIND,
                user_id,
                query.ref,
                list(query.venue_ids) if query.venue_ids is not None else None,
                day_start,
                day_end,
                query.cancelled_by,
                query.after,
            )
        return [_booking(r) for r in rows]

    async def page(self, user_id: uuid.UUID, listing: BookingListing) -> list[Booking]:
        sql = _SOONEST_FIRST if listing.after is not None else _LATEST_FIRST
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                sql,
                user_id,
                [s.value for s in listing.statuses],
                listing.after,
                listing.cursor,
                listing.limit,
            )
        return [_booking(r) for r in rows]

    async def by_ref(self, user_id: uuid.UUID, ref: str) -> Booking | None:
        return await self._one(
            f"""SELECT {_BOOKING_COLUMNS} FROM bookings
                WHERE user_id = $1 AND ref = upper($2) AND status IN ('confirmed', 'cancelled')""",
            user_id,
            ref,
        )

    async def last_confirmed(self, user_id: uuid.UUID, since: datetime) -> Booking | None:
        return await self._one(
            f"""SELECT {_BOOKING_COLUMNS} FROM bookings
                WHERE user_id = $1 AND status = 'confirmed' AND confirmed_at >= $2
                ORDER BY confirmed_at DESC, id DESC LIMIT 1""",
            user_id,
            since,
        )

    async def venue_answer(self, booking_id: uuid.UUID) -> str | None:
        """What a webhook venue answered by callback, if it has."""
        async with self._pool.acquire() as conn:
            answer: str | None = await conn.fetchval(
                "SELECT venue_answer FROM bookings WHERE id = $1", booking_id
            )
        return answer

    async def set_venue_answer(self, booking_id: uuid.UUID, answer: str) -> bool:
        async with self._pool.acquire() as conn:
            done = await conn.fetchval(
                "UPDATE bookings SET venue_answer = $2, updated_at = now() WHERE id = $1 RETURNING true",
                booking_id,
                answer,
            )
        return bool(done)

    async def venue_of(self, booking_id: uuid.UUID) -> Venue | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(_VENUE_OF_BOOKING, booking_id)
        return _venue(row) if row is not None else None

    async def _by_id(self, booking_id: uuid.UUID) -> Booking | None:
        return await self._one(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE id = $1", booking_id)

    async def _one(self, sql: str, *args: Any) -> Booking | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(sql, *args)
        return _booking(row) if row is not None else None


async def _retrying(conn: asyncpg.Connection, sql: str, *args: Any) -> asyncpg.Record | None:
    """One statement, again if PostgreSQL broke a deadlock by aborting it; None after three tries
    (the caller then looks again or gives up, never books on a guess)."""
    for _ in range(3):
        try:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
        except asyncpg.DeadlockDetectedError:
            continue
        return row
    return None


def _clear_args(request: HoldRequest) -> tuple[Any, ...]:
    return (
        request.task_id,
        request.now,
        request.venue.id,
        request.starts_at,
        request.ends_at,
        request.party_size,
        request.service,
    )


def _hold_args(request: HoldRequest) -> tuple[Any, ...]:
    """A fresh id (and so a fresh reference) per attempt: a drawn reference in use costs one retry."""
    booking_id = uuid7()
    return (
        booking_id,
        request.task_id,
        booking_ref(request.venue.name, booking_id),
        request.user_id,
        request.venue.id,
        request.starts_at,
        request.ends_at,
        request.expires_at,
        request.party_size,
        request.service,
        request.confirming,
        list(request.blocked),
    )


def _venue_args(venue: Venue) -> tuple[Any, ...]:
    return (
        venue.id,
        venue.slug,
        venue.name,
        venue.kind.value,
        list(venue.aliases),
        venue.timezone,
        format_hours(venue.hours),
        dict(venue.services),
        venue.default_minutes,
        venue.slot_minutes,
        venue.provider.value,
        dict(venue.provider_config),
        venue.owner_user_id,
    )


def _resource_columns(venue: Venue) -> tuple[list[Any], ...]:
    rs = venue.resources
    return (
        [r.id for r in rs],
        [venue.id] * len(rs),
        [r.name for r in rs],
        [r.kind for r in rs],
        [r.capacity for r in rs],
        [r.calendar_id for r in rs],
    )


def _venue(row: asyncpg.Record) -> Venue:
    return Venue(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        kind=VenueKind(row["kind"]),
        timezone=row["timezone"],
        hours=parse_hours(row["hours"]),
        resources=tuple(
            Resource(uuid.UUID(r["id"]), r["name"], r["kind"], r["capacity"], r["calendar_id"])
            for r in row["resources"]
        ),
        aliases=tuple(row["aliases"]),
        services=dict(row["services"]),
        default_minutes=row["default_minutes"],
        slot_minutes=row["slot_minutes"],
        provider=ProviderName(row["provider"]),
        provider_config=dict(row["provider_config"]),
        owner_user_id=row["owner_user_id"],
    )


def _booking(row: asyncpg.Record) -> Booking:
    return Booking(
        id=row["id"],
        ref=row["ref"],
        user_id=row["user_id"],
        task_id=row["task_id"],
        venue_id=row["venue_id"],
        resource_id=row["resource_id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        party_size=row["party_size"],
        service=row["service"],
        status=BookingStatus(row["status"]),
        hold_expires_at=row["hold_expires_at"],
        confirming=row["confirming"],
        external_id=row["external_id"],
        confirmed_at=row["confirmed_at"],
        cancelled_at=row["cancelled_at"],
    )
