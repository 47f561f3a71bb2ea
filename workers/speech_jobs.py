"""The scheduler's speech job: delete expired spoken replies, transcribed recordings and cold
cached phrases, at most once a minute.

Listed in workers.scheduler.JOB_MODULES. It enqueues nothing (it returns 0); deletion is
idempotent, so two schedulers doing it at once is harmless.
"""

from __future__ import annotations

import logging
import time

from domain.speech_services import purge_speech
from providers.postgres.speech import speech_repository
from providers.wiring import Providers
from workers.scheduler import Job

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60.0


def jobs(providers: Providers) -> list[Job]:
    s = providers.settings
    last = {"at": float("-inf")}

    async def purge() -> int:
        if time.monotonic() - last["at"] < INTERVAL_SECONDS:
            return 0
        last["at"] = time.monotonic()
        async with providers.uow() as uow:
            deleted = await purge_speech(
                speech=speech_repository(uow),
                clock=providers.clock,
                clip_retention_seconds=s.speech_clip_retention_hours * 3600,
                cache_seconds=s.speech_cache_days * 86400,
            )
        if deleted:
            log.info("speech data purged", extra={"rows": deleted})
        return 0

    return [purge]
