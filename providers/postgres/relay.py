"""The scheduler's side of the task table: the outbox relay and the recovery of lost leases.

Both claim rows with FOR UPDATE SKIP LOCKED, so any number of schedulers can run at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from domain.ports import Doorbell
from domain.tasks import Lane

_DUE = """
SELECT id, lane, kind FROM tasks
WHERE published_at IS NULL AND publish_after <= now()
ORDER BY publish_after LIMIT $1
FOR UPDATE SKIP LOCKED
"""

# Queued long after publication: the broker may have lost the entry (restart without persistence).
_STALE = """
SELECT id, lane, kind FROM tasks
WHERE status = 'queued' AND published_at < now() - make_interval(secs => $2)
ORDER BY published_at LIMIT $1
FOR UPDATE SKIP LOCKED
"""

# A worker that died holding a task leaves it `running` with a lease in the past. Such a task is
# put back as `retrying` (the lost run counted as an attempt), or dead-lettered when attempts are
# used up, so a task that kills its workers cannot loop for ever.
_RECOVER = """
WITH lost AS (
    SELECT id, attempts >= max_attempts AS exhausted FROM tasks
    WHERE status = 'running' AND lease_expires_at < now() - make_interval(secs => $1)
    ORDER BY lease_expires_at LIMIT $2
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE tasks t SET
        status = CASE WHEN lost.exhausted THEN 'dead_lettered' ELSE 'retrying' END,
        error = CASE WHEN lost.exhausted
                     THEN jsonb_build_object('type', 'WorkerLost', 'message',
                                             'the worker running this task stopped answering')
                     ELSE t.error END,
        lease_owner = NULL, lease_expires_at = NULL, not_before = now(), publish_after = now(),
        published_at = NULL, updated_at = now()
    FROM lost WHERE t.id = lost.id
    RETURNING t.id, t.status, t.attempts, t.lane, t.kind
), ev AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason, attempt)
    SELECT id, 'running', status, 'lease expired: worker presumed lost', attempts FROM moved
)
SELECT id, status, lane, kind FROM moved
"""


class PostgresRelayStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def publish_due(
        self,
        limit: int,
        publish: Callable[[Sequence[Doorbell]], Awaitable[bool]],
        stale_after: float | None = None,
    ) -> int:
        """Publish up to `limit` due, unpublished tasks; marks them only if `publish` succeeded.

        The rows stay locked while publishing, so two relays never publish the same batch; a crash
        after publishing and before commit publishes it again later (a duplicate entry, harmless:
        the worker's claim lets a task run once).
        """
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await (
                conn.fetch(_DUE, limit) if stale_after is None else conn.fetch(_STALE, limit, stale_after)
            )
            if not rows:
                return 0
            bells = [Doorbell(r["id"], Lane(r["lane"]), r["kind"]) for r in rows]
            if not await publish(bells):
                return 0
            await conn.execute(
                "UPDATE tasks SET published_at = now() WHERE id = ANY($1::uuid[])", [b.task_id for b in bells]
            )
            return len(bells)

    async def recover_lost_leases(self, grace_seconds: float, limit: int) -> list[tuple[uuid.UUID, str]]:
        """Returns (task id, new status) of the tasks taken back from dead workers."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_RECOVER, grace_seconds, limit)
        return [(r["id"], r["status"]) for r in rows]
