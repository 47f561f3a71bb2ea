"""`python -m workers.scheduler`: the outbox relay and lease recovery. It only enqueues.

It publishes committed tasks that never reached their stream (the API's publish failed, a retry
fell due, a worker gave a task back), takes back tasks whose worker died, and trims the streams
below what every worker is done with (so Redis memory stays flat). Every query claims
rows with FOR UPDATE SKIP LOCKED, so running two schedulers is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence

from domain.tasks import Lane
from providers.logs import configure_logging
from providers.postgres.relay import PostgresRelayStore
from providers.redis_streams import RedisStreams
from providers.settings import Settings
from providers.wiring import Providers, build_providers

log = logging.getLogger("workers.scheduler")


Job = Callable[[], Awaitable[int]]
"""A periodic pass of the scheduler (due reminders, escalations…); returns how much it enqueued."""

JOB_MODULES: tuple[str, ...] = ("workers.reminder_jobs", "workers.speech_jobs")
"""Modules with `jobs(providers) -> list[Job]`, run on every pass after the relay."""


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        *,
        relay: PostgresRelayStore,
        streams: RedisStreams,
        jobs: Sequence[Job] = (),
    ) -> None:
        self._settings = settings
        self._relay = relay
        self._streams = streams
        self._jobs = jobs
        self._last_recovery = 0.0

    async def tick(self) -> int:
        """One pass: every reclaim interval, recover lost leases and republish stale entries; then
        publish all that is due."""
        s = self._settings
        published = 0
        if time.monotonic() - self._last_recovery >= s.reclaim_interval_seconds:
            self._last_recovery = time.monotonic()
            recovered = await self._relay.recover_lost_leases(s.lease_grace_seconds, s.relay_batch)
            if recovered:
                log.warning("took back tasks from lost workers", extra={"count": len(recovered)})
            published = await self._relay.publish_due(
                s.relay_batch, self._streams.publish, stale_after=s.republish_after_seconds
            )
            await self._streams.trim(Lane)
        for job in self._jobs:
            published += await job()
        while True:
            count = await self._relay.publish_due(s.relay_batch, self._streams.publish)
            published += count
            if count < s.relay_batch:
                return published

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                published = await self.tick()
                if published:
                    log.info("relayed tasks", extra={"count": published})
            except Exception as exc:  # noqa: BLE001 - a database blip must not stop the relay
                log.warning("scheduler pass failed", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.relay_interval_seconds):
                    await stop.wait()


def build_jobs(providers: Providers) -> list[Job]:
    jobs: list[Job] = []
    for name in JOB_MODULES:
        jobs.extend(importlib.import_module(name).jobs(providers))
    return jobs


async def serve(settings: Settings) -> None:
    providers = await build_providers(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("scheduler started")
    try:
        await Scheduler(
            settings, relay=providers.relay, streams=providers.streams, jobs=build_jobs(providers)
        ).run(stop)
    finally:
        await providers.aclose()
        log.info("scheduler stopped")


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
