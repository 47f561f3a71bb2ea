"""Bookings under contention: many concurrent attempts on few slots, through the real ledger.

Each attempt is what a booking task does against PostgreSQL: a hold (the exclusion constraint
decides who gets the slot), then a confirm for the winners. Reported: successful bookings/s and
conflicts/s, and a check that no resource is booked twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.env import BenchEnv
from bench.report import Row, verdict
from domain.bookings import Booking, HoldRequest, Venue
from domain.ids import uuid7
from domain.venue_admin import ResourceSpec, VenueSpec, build_venue
from providers.postgres.bookings import PostgresBookingStore
from providers.postgres.pool import create_pool

ATTEMPTS = 2000
SLOTS = 25
RESOURCES = 4
CONCURRENCY = 32

_OVERLAPS = """
SELECT count(*) FROM bookings a JOIN bookings b
  ON a.resource_id = b.resource_id AND a.id < b.id
 AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed') AND a.venue_id = $1
"""


@dataclass(frozen=True)
class Contention:
    seconds: float
    booked: int
    conflicts: int
    double_booked: int
    capacity: int


def booking_rows(env: BenchEnv) -> list[Row]:
    result = asyncio.run(_contention(env.database_url))
    ok = result.double_booked == 0 and result.booked == result.capacity
    return [
        Row(
            f"bookings/s, {ATTEMPTS} attempts on {SLOTS} slots x {RESOURCES} tables, {CONCURRENCY} at once",
            f"{result.booked / result.seconds:,.0f} bookings/s",
            note=f"hold + confirm per winner; {result.conflicts / result.seconds:,.0f} conflicts/s "
            f"({result.conflicts} refused attempts); {result.seconds:.2f} s in all",
        ),
        Row(
            "double bookings under contention",
            str(result.double_booked),
            "0",
            verdict(ok),
            note=f"{result.booked} booked of {result.capacity} bookable; the exclusion constraint decides",
        ),
    ]


async def _contention(database_url: str) -> Contention:
    pool = await create_pool(database_url, min_size=CONCURRENCY, max_size=CONCURRENCY)
    try:
        store = PostgresBookingStore(pool)
        user = uuid7()
        async with pool.acquire() as conn:
            await conn.execute("INSERT INTO users (id, token_hash) VALUES ($1, $2)", user, os.urandom(32))
        venue = await store.add_venue(_venue(user))
        starts = _slot_starts()
        now = datetime.now(UTC)
        queue: asyncio.Queue[datetime] = asyncio.Queue()
        rng = random.Random(7)
        for _ in range(ATTEMPTS):
            queue.put_nowait(rng.choice(starts))
        outcomes: list[bool] = []
        began = time.perf_counter()
        await asyncio.gather(
            *(_attempts(store, venue, user, queue, now, outcomes) for _ in range(CONCURRENCY))
        )
        seconds = time.perf_counter() - began
        async with pool.acquire() as conn:
            double = int(await conn.fetchval(_OVERLAPS, venue.id))
            await conn.execute("DELETE FROM bookings WHERE venue_id = $1", venue.id)
            await conn.execute("DELETE FROM venues WHERE id = $1", venue.id)
            await conn.execute("DELETE FROM users WHERE id = $1", user)
        booked = sum(outcomes)
        return Contention(seconds, booked, len(outcomes) - booked, double, SLOTS * RESOURCES)
    finally:
        await pool.close()


async def _attempts(
    store: PostgresBookingStore,
    venue: Venue,
    user: uuid.UUID,
    queue: asyncio.Queue[datetime],
    now: datetime,
    outcomes: list[bool],
) -> None:
    while not queue.empty():
        start = queue.get_nowait()
        held = await store.hold(_request(venue, user, start, now))
        outcomes.append(held is not None and await _confirm(store, held, now))


async def _confirm(store: PostgresBookingStore, held: Booking, now: datetime) -> bool:
    return await store.confirm(held.id, now, None) is not None


def _request(venue: Venue, user: uuid.UUID, start: datetime, now: datetime) -> HoldRequest:
    return HoldRequest(
        task_id=uuid7(),
        user_id=user,
        venue=venue,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        party_size=2,
        service=None,
        now=now,
        expires_at=now + timedelta(minutes=5),
    )


def _venue(owner: uuid.UUID) -> Venue:
    return build_venue(
        VenueSpec(
            name=f"Bench Bistro {uuid.uuid4().hex[:8]}",
            kind="restaurant",
            resources=[ResourceSpec(f"Table {n}", 4) for n in range(1, RESOURCES + 1)],
            owner_user_id=owner,
        )
    )


def _slot_starts() -> list[datetime]:
    """Two-hour slots, five an evening, on days far enough ahead to be free."""
    base = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=400)
    return [base + timedelta(days=n // 5, hours=2 * (n % 5)) for n in range(SLOTS)]
