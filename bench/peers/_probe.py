"""What the three peer scripts share; each runs inside its peer's own virtualenv, so only the
standard library and redis-py (which every peer's Redis broker brings) are used here.

The measurement is the same for every peer: the no-op task calls `RECORDER.ran(sent_at, started)`;
when the expected number of tasks has run, the worker process writes one JSON document to Redis
(first task start, last task end, and each task's enqueue->start lag). Warm-up tasks (a negative
`sent_at`) are only counted, and a key is set once they have all run.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable

import redis

RESULT_KEY = "errand-peer:result"
WARM_KEY = "errand-peer:warm"
QUEUE = "errand-peer"
WARM = -1.0
"""The `sent_at` of a warm-up task."""


def parse_config(text: str) -> dict[str, str]:
    """`"pool=threads,concurrency=8"` -> `{"pool": "threads", "concurrency": "8"}`."""
    out: dict[str, str] = {}
    for part in text.split(","):
        if part.strip():
            key, _, value = part.partition("=")
            out[key.strip()] = value.strip()
    return out


def redis_url() -> str:
    return os.environ["PEER_REDIS_URL"]


class Recorder:
    """Counts the tasks this worker process runs; thread-safe for threaded workers."""

    def __init__(self) -> None:
        self.expect = int(os.environ.get("PEER_EXPECT", "0"))
        self.warm = int(os.environ.get("PEER_WARM", "0"))
        self._lock = threading.Lock()
        self._count = 0
        self._warm_seen = 0
        self._first = math.inf
        self._last = 0.0
        self._lags: list[float] = []

    def ran(self, sent_at: float, started: float) -> None:
        """A task that started at `started` (time.time()) has done its (no) work."""
        finished = time.time()
        with self._lock:
            if sent_at < 0:
                self._warm_seen += 1
                if self._warm_seen == self.warm:
                    _set(WARM_KEY, "1")
                return
            self._count += 1
            self._first = min(self._first, started)
            self._last = max(self._last, finished)
            self._lags.append(started - sent_at)
            if self._count != self.expect:
                return
            payload = {"count": self._count, "first": self._first, "last": self._last, "lags": self._lags}
        _set(RESULT_KEY, json.dumps(payload))


def _set(key: str, value: str) -> None:
    client = redis.Redis.from_url(redis_url())
    try:
        client.set(key, value)
    finally:
        client.close()


def wait_warm(timeout: float = 60.0) -> None:
    client = redis.Redis.from_url(redis_url())
    deadline = time.monotonic() + timeout
    try:
        while not client.exists(WARM_KEY):
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not run the warm-up tasks")
            time.sleep(0.05)
    finally:
        client.close()


def offer(send: Callable[[float], object], rate: float, seconds: float, warm: int) -> dict[str, float]:
    """Warm-up tasks, then `rate` tasks/s for `seconds`, each carrying its enqueue time."""
    for _ in range(warm):
        send(WARM)
    wait_warm()
    total = int(rate * seconds)
    start = time.perf_counter()
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(time.time())
    return {"sent": total, "seconds": time.perf_counter() - start}


async def offer_async(
    send: Callable[[float], Awaitable[object]], rate: float, seconds: float, warm: int
) -> dict[str, float]:
    import asyncio

    for _ in range(warm):
        await send(WARM)
    await asyncio.to_thread(wait_warm)
    total = int(rate * seconds)
    start = time.perf_counter()
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(time.time())
    return {"sent": total, "seconds": time.perf_counter() - start}


def report(figures: dict[str, float]) -> None:
    """The last line a driver prints is what the orchestrator reads."""
    print(json.dumps(figures), flush=True)


def usage() -> None:
    sys.exit("usage: enqueue N | offer RATE SECONDS WARM | worker CONFIG")
