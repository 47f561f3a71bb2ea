"""arq (asyncio, Redis): the no-op workload. Runs in .bench-venvs/arq (arq pins an old redis-py).

python arq_peer.py enqueue N                          N no-op jobs, before the worker starts
python arq_peer.py offer RATE S WARM                  warm-up, then RATE jobs/s for S seconds
python arq_peer.py worker max_jobs=100,poll=0.01      one worker process (arq's Worker, uvloop)
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import uvloop
from _probe import QUEUE, Recorder, offer_async, parse_config, redis_url, report, usage
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func

RECORDER = Recorder()


async def noop(ctx: dict[str, Any], sent_at: float) -> None:
    RECORDER.ran(sent_at, time.time())


async def _pool() -> ArqRedis:
    return await create_pool(RedisSettings.from_dsn(redis_url()), default_queue_name=QUEUE)


async def enqueue(count: int) -> None:
    pool = await _pool()
    started = time.perf_counter()
    for first in range(0, count, 500):
        await asyncio.gather(*(pool.enqueue_job("noop", time.time()) for _ in range(min(500, count - first))))
    report({"sent": count, "seconds": time.perf_counter() - started})
    await pool.aclose()


async def offer_load(rate: float, seconds: float, warm: int) -> None:
    pool = await _pool()
    report(await offer_async(lambda at: pool.enqueue_job("noop", at), rate, seconds, warm))
    await pool.aclose()


def worker(config: str) -> None:
    """arq's Worker in this process; results are not kept (keep_result=0); no per-job log lines."""
    options = parse_config(config)
    asyncio.set_event_loop(uvloop.new_event_loop())
    Worker(
        functions=[func(noop, name="noop")],
        redis_settings=RedisSettings.from_dsn(redis_url()),
        queue_name=QUEUE,
        max_jobs=int(options.get("max_jobs", "10")),
        poll_delay=float(options.get("poll", "0.5")),
        keep_result=0,
        handle_signals=True,
    ).run()


def main() -> None:
    match sys.argv[1:]:
        case ["enqueue", count]:
            uvloop.run(enqueue(int(count)))
        case ["offer", rate, seconds, warm]:
            uvloop.run(offer_load(float(rate), float(seconds), int(warm)))
        case ["worker", config]:
            worker(config)
        case _:
            usage()


if __name__ == "__main__":
    main()
