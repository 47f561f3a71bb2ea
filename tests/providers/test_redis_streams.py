"""Publishing doorbells: concurrent publishes share pipelines, and nothing is lost or left waiting."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as aioredis

from domain.ports import Doorbell
from domain.tasks import Lane
from providers.embedded import free_port
from providers.redis_streams import RedisStreams, StreamKeys
from providers.wiring import Providers


def bell() -> Doorbell:
    return Doorbell(uuid.uuid4(), Lane.ANSWER, "noop")


async def test_concurrent_publishes_go_out_in_shared_pipelines(providers: Providers) -> None:
    streams = RedisStreams(providers.redis, StreamKeys(f"{providers.settings.redis_prefix}:group"))
    calls: list[int] = []
    send = streams._xadd

    async def counting(doorbells):  # type: ignore[no-untyped-def]
        calls.append(len(doorbells))
        await send(doorbells)

    streams._xadd = counting  # type: ignore[method-assign]
    bells = [bell() for _ in range(200)]
    results = await asyncio.gather(*(streams.publish([b]) for b in bells[:150]), streams.publish(bells[150:]))
    assert all(results)
    entries = await providers.redis.xrange(streams.keys.stream(Lane.ANSWER))
    assert sorted(fields[b"task_id"].decode() for _, fields in entries) == sorted(
        str(b.task_id) for b in bells
    )
    assert sum(calls) == 200 and len(calls) < 10  # a few pipelines, not 151 round trips


async def test_a_waiter_that_went_away_does_not_stop_the_others(providers: Providers) -> None:
    streams = RedisStreams(providers.redis, StreamKeys(f"{providers.settings.redis_prefix}:gone"))
    first = asyncio.ensure_future(streams.publish([bell()]))
    rest = [asyncio.ensure_future(streams.publish([bell()])) for _ in range(5)]
    await asyncio.sleep(0)  # all six are waiting for the sender now
    first.cancel()
    assert await asyncio.gather(*rest) == [True] * 5
    assert await providers.redis.xlen(streams.keys.stream(Lane.ANSWER)) == 6
    assert await streams.publish([bell()])  # and the next publish starts a new sender


async def test_every_waiter_hears_false_when_redis_is_unreachable() -> None:
    client = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5)
    streams = RedisStreams(client, StreamKeys("nowhere"))
    try:
        results = await asyncio.wait_for(asyncio.gather(*(streams.publish([bell()]) for _ in range(20))), 10)
        assert results == [False] * 20
    finally:
        await client.aclose()


async def test_trimming_keeps_every_unacked_and_undelivered_entry(providers: Providers) -> None:
    streams = RedisStreams(providers.redis, StreamKeys(f"{providers.settings.redis_prefix}:trim"))
    await streams.ensure_groups([Lane.ANSWER])
    key = streams.keys.stream(Lane.ANSWER)
    assert await streams.publish([bell() for _ in range(10)])
    [(_, delivered)] = await providers.redis.xreadgroup("workers", "c1", {key: ">"}, count=6)
    ids = [entry_id for entry_id, _ in delivered]
    await providers.redis.xack(key, "workers", ids[0], ids[1], ids[3])  # the third is still pending
    assert await streams.trim([Lane.ANSWER]) == 2
    left = [entry_id for entry_id, _ in await providers.redis.xrange(key)]
    assert left[0] == ids[2] and len(left) == 8
    await providers.redis.xack(key, "workers", *ids)
    assert await streams.trim([Lane.ANSWER]) == 3  # below the last delivered entry
    assert len(await providers.redis.xrange(key)) == 5  # it and the four never delivered
    assert await streams.trim([Lane.ANSWER, Lane.BOOKING]) == 0  # nothing more; a missing stream is fine
