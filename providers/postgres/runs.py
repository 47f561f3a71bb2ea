"""The worker's side of the task table: claim a batch, record a batch of outcomes.

Both are single statements over arrays, so a worker pays two round trips per batch, not per task.
The attempt number is a fencing token: a worker whose lease was taken over cannot overwrite the
outcome of the worker that took it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from domain.tasks import Outcome, Task
from providers.postgres.rows import TASK_COLUMNS, task_from_row

_CLAIM = f"""
WITH req AS (
    SELECT * FROM unnest($1::uuid[], $3::float8[]) AS r(id, lease)
), prev AS (
    SELECT t.id, t.status, req.lease FROM tasks t JOIN req ON req.id = t.id
    WHERE (t.status IN ('queued', 'retrying') AND t.not_before <= now())
       OR (t.status = 'running' AND t.lease_expires_at < now())
    ORDER BY t.id
    FOR UPDATE OF t
), claimed AS (
    UPDATE tasks t SET status = 'running', attempts = t.attempts + 1, lease_owner = $2,
           lease_expires_at = now() + make_interval(secs => prev.lease),
           published_at = coalesce(t.published_at, now()), updated_at = now()
    FROM prev WHERE t.id = prev.id
    RETURNING {", ".join("t." + c.strip() for c in TASK_COLUMNS.split(","))}, prev.status AS prev_status,
              t.max_attempts
), ev AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason, attempt)
    SELECT id, prev_status, 'running', 'claimed by ' || $2, attempts FROM claimed
)
SELECT * FROM claimed
"""

_COMPLETE = """
WITH o AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[],
                         $7::float8[], $8::text[])
        AS o(id, attempt, status, reply, result, error, retry_in, reason)
), done AS (
    UPDATE tasks t SET status = o.status, reply = coalesce(o.reply, t.reply), result = o.result,
           error = o.error, lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
           not_before = CASE WHEN o.status = 'retrying'
                             THEN now() + make_interval(secs => o.retry_in) ELSE t.not_before END,
           publish_after = CASE WHEN o.status = 'retrying'
                                THEN now() + make_interval(secs => o.retry_in) ELSE t.publish_after END,
           published_at = CASE WHEN o.status = 'retrying' THEN NULL ELSE t.published_at END
    FROM o
    WHERE t.id = o.id AND t.id IN (SELECT id FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
      AND t.status = 'running' AND t.attempts = o.attempt AND t.lease_owner = $9
    RETURNING t.id, t.status, t.attempts, o.reason
), ev AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason, attempt)
    SELECT id, 'running', status, reason, attempts FROM done
)
SELECT id FROM done
"""


_RELEASE = """
WITH r AS (
    UPDATE tasks SET status = 'retrying', attempts = greatest(attempts - 1, 0), lease_owner = NULL,
           lease_expires_at = NULL, not_before = now(), publish_after = now(), published_at = NULL,
           updated_at = now()
    WHERE id IN (SELECT id FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
      AND status = 'running' AND lease_owner = $2
    RETURNING id, attempts
), ev AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason, attempt)
    SELECT id, 'running', 'retrying', 'released: worker shutting down', attempts FROM r
)
SELECT id FROM r
"""


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    task: Task
    max_attempts: int


@dataclass(frozen=True, slots=True)
class Completion:
    task_id: uuid.UUID
    attempt: int
    outcome: Outcome


class PostgresTaskRuns:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(
        self, task_ids: Sequence[uuid.UUID], owner: str, leases: Sequence[float]
    ) -> list[ClaimedTask]:
        """Tasks that may run now become `running` under `owner`'s lease; the others are left alone
        (already done, running elsewhere, or not due yet). Rows are locked in id order and waited
        for, never skipped: a skipped row would be acked without running."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_CLAIM, list(task_ids), owner, list(leases))
        return [ClaimedTask(task_from_row(r), r["max_attempts"]) for r in rows]

    async def complete(self, owner: str, completions: Sequence[Completion]) -> set[uuid.UUID]:
        """Record outcomes; returns the ids recorded (the others lost their lease meanwhile)."""
        if not completions:
            return set()
        cols: tuple[list[object], ...] = ([], [], [], [], [], [], [], [])
        for c in completions:
            o = c.outcome
            for col, value in zip(
                cols,
                (c.task_id, c.attempt, o.status.value, o.reply, o.result, o.error, o.retry_in, o.reason),
                strict=True,
            ):
                col.append(value)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_COMPLETE, *cols, owner)
        return {r["id"] for r in rows}

    async def release(self, owner: str, task_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Give back tasks a stopping worker did not finish; the relay queues them again at once.
        The interrupted run does not count as an attempt."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_RELEASE, list(task_ids), owner)
        return {r["id"] for r in rows}
