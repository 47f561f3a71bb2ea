"""The ledger cannot double-book: the exclusion constraint decides, not a check before the insert."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg

from domain.bookings import BookingStatus, HoldRequest, Venue
from domain.ids import uuid7
from domain.venue_admin import ResourceSpec, VenueSpec, add_venue
from providers.postgres.bookings import PostgresBookingStore
from providers.postgres.pool import create_pool
from providers.wiring import Providers
from tests.bookings.conftest import ZONE, at, fresh_day, store_of
from tests.helpers import make_user


async def _one_table_venue(providers: Providers, owner: uuid.UUID) -> Venue:
    spec = VenueSpec(
        name=f"Tiny Bistro {uuid.uuid4().hex[:8]}",
        kind="restaurant",
        resources=[ResourceSpec("Only table", 4)],
        timezone=ZONE,
        owner_user_id=owner,
    )
    return await add_venue(spec, store=store_of(providers))


def _request(venue: Venue, user: uuid.UUID, start, now) -> HoldRequest:  # type: ignore[no-untyped-def]
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


async def test_fifty_concurrent_holds_on_the_last_slot_make_exactly_one(providers: Providers) -> None:
    user = await make_user(providers)
    venue = await _one_table_venue(providers, user)
    start = at(fresh_day(), "19:00")
    now = start - timedelta(days=1)
    pool = await create_pool(providers.settings.database_url, min_size=50, max_size=50)
    try:
        store = PostgresBookingStore(pool)
        gate = asyncio.Event()

        async def attempt() -> object:
            await gate.wait()
            return await store.hold(_request(venue, user, start, now))

        attempts = [asyncio.create_task(attempt()) for _ in range(50)]
        await asyncio.sleep(0.1)
        gate.set()
        results = await asyncio.gather(*attempts)
    finally:
        await pool.close()
    assert sum(r is not None for r in results) == 1
    async with providers.pool.acquire() as conn:
        live = await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE venue_id = $1 AND status IN ('held', 'confirmed')", venue.id
        )
    assert live == 1


async def test_the_database_refuses_an_overlap_even_without_the_check(providers: Providers) -> None:
    """Fifty raw INSERTs of overlapping bookings, no NOT EXISTS in front: one lands, 49 are refused.
    (The ledger's own hold uses INSERT ... ON CONFLICT DO NOTHING, which waits instead of deadlocking.)"""
    user = await make_user(providers)
    venue = await _one_table_venue(providers, user)
    start = at(fresh_day(), "12:00")
    table = venue.resources[0].id
    conns = [await asyncpg.connect(providers.settings.database_url) for _ in range(50)]

    async def insert(conn: asyncpg.Connection, n: int) -> bool:
        try:
            await conn.execute(
                """INSERT INTO bookings (id, ref, user_id, task_id, venue_id, resource_id, party_size,
                                         starts_at, ends_at, status)
                   VALUES ($1, $2, $3, $4, $5, $6, 2, $7, $8, 'confirmed')""",
                uuid7(), f"RAW-{uuid.uuid4().hex[:8]}", user, uuid7(), venue.id, table,
                start + timedelta(minutes=n % 30), start + timedelta(hours=2),
            )  # fmt: skip
        except (asyncpg.ExclusionViolationError, asyncpg.DeadlockDetectedError):
            return False  # refused: plain INSERTs racing on the constraint may also be told "deadlock"
        return True

    try:
        landed = await asyncio.gather(*(insert(c, n) for n, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    assert sum(landed) == 1


async def test_a_hold_is_idempotent_per_task_and_an_expired_one_frees_the_slot(providers: Providers) -> None:
    user = await make_user(providers)
    venue = await _one_table_venue(providers, user)
    store = store_of(providers)
    start = at(fresh_day(), "18:00")
    now = start - timedelta(days=1)
    first = _request(venue, user, start, now)
    held = await store.hold(first)
    again = await store.hold(first)
    assert held is not None and again is not None and again.id == held.id
    other = _request(venue, user, start, now)
    assert await store.hold(other) is None  # taken
    later = now + timedelta(minutes=6)  # the first hold lapsed unconfirmed
    taken = await store.hold(_request(venue, user, start, later))
    assert taken is not None and taken.id != held.id
    assert (await store.for_task(first.task_id)).status is BookingStatus.EXPIRED  # type: ignore[union-attr]
