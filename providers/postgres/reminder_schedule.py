"""The scheduler's side of reminders: fire due occurrences, run escalation steps, record missed doses.

Each pass claims a batch with FOR UPDATE SKIP LOCKED through a partial index that holds only what is
due, so its cost follows the occurrences due, not the number of reminders, and any number of
schedulers can run at once. Firing is one transaction: the occurrence rows (deterministic ids, unique
per reminder and instant, ON CONFLICT DO NOTHING), their delivery tasks (deterministic ids: the
outbox, published by the relay right after the pass), their escalation steps, and the reminders'
next due times. A crash before commit leaves nothing; after it, nothing is left to do twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from domain.ports import NewTask
from domain.reminders import (
    DueReminder,
    DueStep,
    EscalationPolicy,
    FirePlan,
    PlannedOccurrence,
    StepAction,
    StepPlan,
    policy_from_json,
    steps_to_json,
)
from providers.postgres.reminders import (
    OCCURRENCE_AS_O,
    REMINDER_AS_R,
    REMINDER_COLUMNS,
    occurrence_from_row,
    reminder_from_row,
)

_CLAIM_DUE = f"""
SELECT {", ".join("r." + c.strip() for c in REMINDER_COLUMNS.split(","))},
       p.steps AS policy_steps, p.missed_after_seconds AS policy_missed_after, now() AS now,
       u.settings->>'language' AS user_language
FROM reminders r LEFT JOIN reminder_policies p ON p.user_id = r.user_id
JOIN users u ON u.id = r.user_id
WHERE r.status = 'active' AND r.next_due_at IS NOT NULL AND r.next_due_at <= now()
ORDER BY r.next_due_at
LIMIT $1
FOR UPDATE OF r SKIP LOCKED
"""

# The occurrences of one batch, and the ladder of each one fired; returns the ids really inserted
# (a conflict means the occurrence exists already: its task and steps exist too, or never will).
_RECORD = """
WITH o AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::bool[], $6::float8[],
                         $7::float8[], $8::timestamptz[], $9::uuid[], $10::jsonb[])
        AS o(id, reminder_id, user_id, due_at, fire, late_after, miss_after, miss_cap, task_id, steps)
), t AS (
    SELECT clock_timestamp() AS at
), ins AS (
    INSERT INTO reminder_occurrences (id, reminder_id, user_id, due_at, status, reason, fired_at, late_at,
                                      miss_at, task_id)
    SELECT o.id, o.reminder_id, o.user_id, o.due_at,
           CASE WHEN o.fire THEN 'pending' ELSE 'missed' END,
           CASE WHEN o.fire THEN NULL ELSE 'not_delivered' END,
           CASE WHEN o.fire THEN t.at END,
           CASE WHEN o.fire THEN t.at + make_interval(secs => o.late_after) END,
           CASE WHEN o.fire THEN least(t.at + make_interval(secs => o.miss_after), o.miss_cap) END,
           o.task_id
    FROM o CROSS JOIN t
    ON CONFLICT DO NOTHING
    RETURNING id, fired_at
), steps AS (
    INSERT INTO reminder_escalations (occurrence_id, step, action, contacts, due_at)
    SELECT ins.id, s.n, s.value->>'action', coalesce(s.value->'contacts', '[]'::jsonb),
           ins.fired_at + make_interval(secs => (s.value->>'after_seconds')::float8)
    FROM ins JOIN o ON o.id = ins.id
    CROSS JOIN LATERAL jsonb_array_elements(o.steps->'steps') WITH ORDINALITY AS s(value, n)
    WHERE ins.fired_at IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT id FROM ins
"""

_ADVANCE = """
UPDATE reminders r SET next_due_at = u.next_due_at, updated_at = now(),
       status = CASE WHEN u.next_due_at IS NULL THEN 'finished' ELSE r.status END
FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, next_due_at)
WHERE r.id = u.id
"""

# Tasks the scheduler creates: queued and unpublished, so the outbox relay publishes them.
_INSERT_TASKS = """
WITH n AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                         $8::jsonb[], $9::text[], $10::int[], $11::text[], $12::text[])
        AS n(id, user_id, conversation_id, kind, lane, intent, slots, input, parser, max_attempts, reply,
             reason)
), t AS (
    INSERT INTO tasks (id, user_id, conversation_id, kind, lane, intent, slots, input, parser, status,
                       max_attempts, reply, published_at, publish_after)
    SELECT id, user_id, conversation_id, kind, lane, intent, slots, input, parser, 'queued',
           max_attempts, reply, NULL, now()
    FROM n
    ON CONFLICT DO NOTHING
    RETURNING id
)
INSERT INTO task_events (task_id, from_status, to_status, reason)
SELECT t.id, NULL, 'queued', n.reason FROM t JOIN n ON n.id = t.id
"""

_CLAIM_STEPS = f"""
SELECT e.step, e.action, e.contacts, e.due_at AS step_due_at, u.name AS user_name,
       u.settings->>'language' AS user_language,
       {REMINDER_AS_R}, {OCCURRENCE_AS_O}
FROM reminder_escalations e
JOIN reminder_occurrences o ON o.id = e.occurrence_id
JOIN reminders r ON r.id = o.reminder_id
JOIN users u ON u.id = o.user_id
WHERE e.state = 'pending' AND e.due_at <= now()
ORDER BY e.due_at
LIMIT $1
FOR UPDATE OF e SKIP LOCKED
"""

_SETTLE_STEPS = """
UPDATE reminder_escalations e
SET state = CASE WHEN s.task_id IS NULL THEN 'cancelled' ELSE 'done' END, task_id = s.task_id, done_at = now()
FROM unnest($1::uuid[], $2::int[], $3::uuid[]) AS s(occurrence_id, step, task_id)
WHERE e.occurrence_id = s.occurrence_id AND e.step = s.step AND e.state = 'pending'
"""

_MARK_MISSED = """
WITH m AS (
    SELECT id FROM reminder_occurrences
    WHERE status = 'pending' AND miss_at <= now()
    ORDER BY miss_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE reminder_occurrences o SET status = 'missed', reason = 'no_ack'
FROM m WHERE o.id = m.id
"""


@dataclass(frozen=True, slots=True)
class Fired:
    """What one firing batch did."""

    claimed: int
    fired: int
    missed: int


class PostgresReminderScheduler:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def fire_due(self, limit: int, plan: Callable[[DueReminder, datetime], FirePlan]) -> Fired:
        """Claim up to `limit` due reminders and carry out `plan` for each, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM_DUE, limit)
            if not rows:
                return Fired(0, 0, 0)
            plans = [plan(_due_reminder(row), row["now"]) for row in rows]
            occurrences = [o for p in plans for o in p.occurrences]
            inserted: set[Any] = set()
            if occurrences:
                inserted = {r["id"] for r in await conn.fetch(_RECORD, *_occurrence_columns(occurrences))}
                tasks = [o.task for o in occurrences if o.task is not None and o.id in inserted]
                await insert_tasks(conn, tasks)
            await conn.execute(_ADVANCE, [p.reminder_id for p in plans], [p.next_due_at for p in plans])
        fired = sum(1 for o in occurrences if o.fire and o.id in inserted)
        return Fired(len(rows), fired, len(inserted) - fired)

    async def run_escalations(self, limit: int, plan: Callable[[DueStep], StepPlan]) -> tuple[int, int]:
        """Run up to `limit` due escalation steps once each; returns (steps claimed, tasks created)."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM_STEPS, limit)
            if not rows:
                return 0, 0
            plans = [plan(_due_step(row)) for row in rows]
            await insert_tasks(conn, [p.task for p in plans if p.task is not None])
            await conn.execute(
                _SETTLE_STEPS,
                [p.occurrence_id for p in plans],
                [p.step for p in plans],
                [p.task.id if p.task else None for p in plans],
            )
        return len(rows), sum(1 for p in plans if p.task is not None)

    async def mark_missed(self, limit: int) -> int:
        """Record up to `limit` doses nobody acknowledged in time as missed."""
        async with self._pool.acquire() as conn:
            status = await conn.execute(_MARK_MISSED, limit)
        return int(status.split()[-1])


async def insert_tasks(conn: asyncpg.Connection, tasks: Sequence[NewTask]) -> None:
    """Insert queued, unpublished tasks with their first event; existing ids are left alone."""
    if not tasks:
        return
    cols: tuple[list[object], ...] = tuple([] for _ in range(12))
    for t in tasks:
        values = (
            t.id,
            t.user_id,
            t.conversation_id,
            t.kind,
            t.lane.value,
            t.intent,
            t.slots,
            t.input,
            t.parser,
            t.max_attempts,
            t.reply,
            t.reason,
        )
        for col, value in zip(cols, values, strict=True):
            col.append(value)
    await conn.execute(_INSERT_TASKS, *cols)


def _occurrence_columns(occurrences: Sequence[PlannedOccurrence]) -> list[list[object]]:
    return [
        [o.id for o in occurrences],
        [o.reminder_id for o in occurrences],
        [o.user_id for o in occurrences],
        [o.due_at for o in occurrences],
        [o.fire for o in occurrences],
        [o.late_after_seconds for o in occurrences],
        [o.missed_after_seconds for o in occurrences],
        [o.miss_cap for o in occurrences],
        [o.task.id if o.task else None for o in occurrences],
        [{"steps": steps_to_json(o.steps)} for o in occurrences],  # a list would be an array dimension
    ]


def _due_reminder(row: Any) -> DueReminder:
    reminder = reminder_from_row(row)
    if row["policy_steps"] is None:
        return DueReminder(reminder, EscalationPolicy(), row["user_language"])
    policy = policy_from_json(row["policy_steps"], row["policy_missed_after"])
    return DueReminder(reminder, policy, row["user_language"])


def _due_step(row: Any) -> DueStep:
    return DueStep(
        reminder=reminder_from_row(row, "r_"),
        occurrence=occurrence_from_row(row, "o_"),
        step=row["step"],
        action=StepAction(row["action"]),
        contacts=tuple(row["contacts"] or ()),
        due_at=row["step_due_at"],
        user_name=row["user_name"],
        language=row["user_language"],
    )
