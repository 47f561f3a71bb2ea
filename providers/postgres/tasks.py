"""The task repository: the API's and the operators' view of tasks."""

from __future__ import annotations

import uuid

import asyncpg

from domain.ports import NewTask, TaskChange
from domain.tasks import Task, TaskEvent, TaskStatus
from providers.postgres.rows import TASK_COLUMNS, event_from_row, task_from_row

# One statement, so one round trip and atomic without BEGIN/COMMIT: the conversation (created, or
# touched if it is the caller's), the task row that is also the outbox entry, and its first event.
_INSERT = """
WITH conv AS (
    INSERT INTO conversations AS c (id, user_id) VALUES ($3, $2)
    ON CONFLICT (id) DO UPDATE SET updated_at = now() WHERE c.user_id = $2
    RETURNING c.id
), t AS (
    INSERT INTO tasks (id, user_id, conversation_id, kind, lane, intent, slots, input, parser, status,
                       max_attempts, published_at, idempotency_key, request_hash, reply)
    SELECT $1, $2, conv.id, $4, $5, $6, $7, $8, $9, $14, $10,
           CASE WHEN $11 AND $14 = 'queued' THEN now() END, $12, $13, $16
    FROM conv
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING id, created_at
), e AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason)
    SELECT id, NULL, $14, $15 FROM t
)
SELECT created_at FROM t
"""
# Only the time comes back: the caller knows every other column (it just sent them), and
# decoding the whole row (two jsonb among them) was a measurable part of the API's hot path.


_T_COLUMNS = ", ".join("t." + c.strip() for c in TASK_COLUMNS.split(","))

# A person's answer moves a waiting task on: new slots and reply, the message kept as a turn; to
# `queued` it is presumed published (the caller publishes right after, as for a new task).
_ADVANCE = f"""
WITH prev AS (
    SELECT id, status FROM tasks WHERE id = $1 AND user_id = $2 AND status = ANY($3::text[]) FOR UPDATE
), t AS (
    UPDATE tasks SET status = $4, slots = coalesce($6, tasks.slots), reply = coalesce($7, tasks.reply),
           input = CASE WHEN $8::text IS NULL THEN tasks.input
                        ELSE jsonb_set(tasks.input, '{{turns}}',
                                       coalesce(tasks.input->'turns', '[]'::jsonb) || to_jsonb($8::text))
                   END,
           published_at = CASE WHEN $4 = 'queued' THEN now() ELSE tasks.published_at END,
           not_before = CASE WHEN $4 = 'queued' THEN now() ELSE tasks.not_before END,
           updated_at = now()
    FROM prev WHERE tasks.id = prev.id
    RETURNING {", ".join("tasks." + c.strip() for c in TASK_COLUMNS.split(","))}, prev.status AS prev_status
), e AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason) SELECT id, prev_status, $4, $5 FROM t
)
SELECT * FROM t
"""


class PostgresTaskRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def insert(self, task: NewTask) -> Task | None:
        created_at = await self._conn.fetchval(
            _INSERT,
            task.id,
            task.user_id,
            task.conversation_id,
            task.kind,
            task.lane.value,
            task.intent,
            task.slots,
            task.input,
            task.parser,
            task.max_attempts,
            task.presumed_published,
            task.idempotency_key,
            task.request_hash,
            task.status.value,
            task.reason,
            task.reply,
        )
        if created_at is None:
            return None
        return Task(
            id=task.id,
            user_id=task.user_id,
            conversation_id=task.conversation_id,
            kind=task.kind,
            lane=task.lane,
            intent=task.intent,
            status=task.status,
            attempts=0,
            created_at=created_at,
            updated_at=created_at,
            slots=task.slots,
            input=task.input,
            reply=task.reply,
            parser=task.parser,
        )

    async def by_idempotency_key(self, user_id: uuid.UUID, key: str) -> tuple[Task, str | None] | None:
        row = await self._conn.fetchrow(
            f"""SELECT {TASK_COLUMNS}, request_hash FROM tasks WHERE user_id = $1 AND idempotency_key = $2
                UNION ALL
                SELECT {_T_COLUMNS}, r.request_hash FROM message_receipts r JOIN tasks t ON t.id = r.task_id
                WHERE r.user_id = $1 AND r.key = $2
                LIMIT 1""",
            user_id,
            key,
        )
        return (task_from_row(row), row["request_hash"]) if row else None

    async def pending_in(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> Task | None:
        row = await self._conn.fetchrow(
            f"""SELECT {TASK_COLUMNS} FROM tasks
                WHERE conversation_id = $1 AND user_id = $2
                  AND status IN ('needs_input', 'awaiting_confirmation')
                ORDER BY id DESC LIMIT 1""",
            conversation_id,
            user_id,
        )
        return task_from_row(row) if row else None

    async def advance(self, change: TaskChange) -> Task | None:
        row = await self._conn.fetchrow(
            _ADVANCE,
            change.task_id,
            change.user_id,
            [s.value for s in change.from_statuses],
            change.to_status.value,
            change.reason,
            change.slots,
            change.reply,
            change.turn,
        )
        return task_from_row(row) if row else None

    async def add_receipt(self, user_id: uuid.UUID, key: str, request_hash: str, task_id: uuid.UUID) -> None:
        await self._conn.execute(
            "INSERT INTO message_receipts (user_id, key, request_hash, task_id) VALUES ($1, $2, $3, $4)",
            user_id,
            key,
            request_hash,
            task_id,
        )

    async def get(self, task_id: uuid.UUID, user_id: uuid.UUID | None) -> Task | None:
        row = await self._conn.fetchrow(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)",
            task_id,
            user_id,
        )
        return task_from_row(row) if row else None

    async def page(
        self, user_id: uuid.UUID, status: TaskStatus | None, limit: int, before: uuid.UUID | None
    ) -> list[Task]:
        rows = await self._conn.fetch(
            f"""SELECT {TASK_COLUMNS} FROM tasks
                WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR id < $3)
                ORDER BY id DESC LIMIT $4""",
            user_id,
            status.value if status else None,
            before,
            limit,
        )
        return [task_from_row(r) for r in rows]

    async def events(self, task_id: uuid.UUID) -> list[TaskEvent]:
        rows = await self._conn.fetch(
            "SELECT task_id, at, from_status, to_status, reason, attempt FROM task_events "
            "WHERE task_id = $1 ORDER BY id",
            task_id,
        )
        return [event_from_row(r) for r in rows]

    async def mark_unpublished(self, task_id: uuid.UUID) -> None:
        await self._conn.execute(
            "UPDATE tasks SET published_at = NULL, publish_after = now() WHERE id = $1 AND status = 'queued'",
            task_id,
        )

    async def dead_letters(self, limit: int, before: uuid.UUID | None) -> list[Task]:
        rows = await self._conn.fetch(
            f"""SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'dead_lettered'
                AND ($1::uuid IS NULL OR id < $1) ORDER BY id DESC LIMIT $2""",
            before,
            limit,
        )
        return [task_from_row(r) for r in rows]

    async def requeue_dead_letter(self, task_id: uuid.UUID, reason: str) -> Task | None:
        row = await self._conn.fetchrow(
            f"""WITH t AS (
                    UPDATE tasks SET status = 'queued', attempts = 0, error = NULL, not_before = now(),
                           publish_after = now(), published_at = now(),
                           updated_at = now()
                    WHERE id = $1 AND status = 'dead_lettered'
                    RETURNING {TASK_COLUMNS}
                ), e AS (
                    INSERT INTO task_events (task_id, from_status, to_status, reason)
                    SELECT id, 'dead_lettered', 'queued', $2 FROM t
                )
                SELECT {TASK_COLUMNS} FROM t""",
            task_id,
            reason,
        )
        return task_from_row(row) if row else None
