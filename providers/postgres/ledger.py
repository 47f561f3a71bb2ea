"""Writes down, in batches, which tasks the API published, so the outbox relay skips them.

The request path only appends ids to a list; a background flush writes them every
`interval` seconds in one UPDATE. Losing a batch (a crash) costs a duplicate publish by the
relay, which the workers' claim absorbs; it never loses a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence

import asyncpg

from providers.postgres.tasks import PostgresTaskRepository

log = logging.getLogger(__name__)


class BatchedPublishLedger:
    def __init__(self, pool: asyncpg.Pool, interval: float = 0.1) -> None:
        self._pool = pool
        self._interval = interval
        self._pending: list[uuid.UUID] = []
        self._task: asyncio.Task[None] | None = None

    def published(self, task_ids: Sequence[uuid.UUID]) -> None:
        self._pending.extend(task_ids)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="publish-ledger")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            async with self._pool.acquire() as conn:
                await PostgresTaskRepository(conn).mark_published(batch)
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("could not record published tasks; the relay may publish them again",
                        extra={"count": len(batch), "error": repr(exc)})

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
