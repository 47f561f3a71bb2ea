"""The reminder repository: reminders, the occurrence ledger and the escalation ladders, on one connection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from domain.ports import UnitOfWork
from domain.recurrence import Schedule
from domain.reminders import (
    EscalationPolicy,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderStatus,
    policy_from_json,
    steps_to_json,
)
from providers.postgres.uow import PostgresUnitOfWork

_REMINDER = [
    "id",
    "user_id",
    "conversation_id",
    "source_task_id",
    "what",
    "medicine",
    "dose",
    "first_at",
    "rrule",
    "timezone",
    "escalate",
    "status",
    "next_due_at",
    "created_at",
]
_OCCURRENCE = [
    "id",
    "reminder_id",
    "user_id",
    "due_at",
    "status",
    "reason",
    "fired_at",
    "acked_at",
    "late_at",
    "miss_at",
    "task_id",
]


def columns(names: Sequence[str], alias: str = "", prefix: str = "") -> str:
    """`r.id AS r_id, …`: the columns of a joined select, prefixed so two tables' rows can share one."""
    table = f"{alias}." if alias else ""
    return ", ".join(f"{table}{name}" + (f" AS {prefix}{name}" if prefix else "") for name in names)


REMINDER_COLUMNS = columns(_REMINDER)
OCCURRENCE_COLUMNS = columns(_OCCURRENCE)
REMINDER_AS_R = columns(_REMINDER, "r", "r_")
OCCURRENCE_AS_O = columns(_OCCURRENCE, "o", "o_")


def reminder_from_row(row: Any, prefix: str = "") -> Reminder:
    def get(name: str) -> Any:
        return row[prefix + name]

    return Reminder(
        id=get("id"),
        user_id=get("user_id"),
        conversation_id=get("conversation_id"),
        what=get("what"),
        medicine=get("medicine"),
        dose=get("dose"),
        schedule=Schedule(get("first_at"), get("rrule"), get("timezone")),
        status=ReminderStatus(get("status")),
        next_due_at=get("next_due_at"),
        escalate=get("escalate"),
        source_task_id=get("source_task_id"),
        created_at=get("created_at"),
    )


def occurrence_from_row(row: Any, prefix: str = "") -> Occurrence:
    def get(name: str) -> Any:
        return row[prefix + name]

    return Occurrence(
        id=get("id"),
        reminder_id=get("reminder_id"),
        user_id=get("user_id"),
        due_at=get("due_at"),
        status=OccurrenceStatus(get("status")),
        reason=get("reason"),
        fired_at=get("fired_at"),
        acked_at=get("acked_at"),
        late_at=get("late_at"),
        miss_at=get("miss_at"),
        task_id=get("task_id"),
    )


# A retry of the set_reminder task finds the reminder its first run stored (same id, same task).
_ADD = f"""
WITH ins AS (
    INSERT INTO reminders (id, user_id, conversation_id, source_task_id, what, medicine, dose, first_at,
                           rrule, timezone, escalate, status, next_due_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT DO NOTHING
    RETURNING {REMINDER_COLUMNS}
)
SELECT {REMINDER_COLUMNS} FROM ins
UNION ALL
SELECT {REMINDER_COLUMNS} FROM reminders
WHERE user_id = $2 AND (id = $1 OR source_task_id = $4) AND NOT EXISTS (SELECT 1 FROM ins)
LIMIT 1
"""

# Leaving `active` stops the ladder of the doses still pending.
_CHANGE_STATUS = f"""
WITH r AS (
    UPDATE reminders SET status = $4, next_due_at = $5, updated_at = now()
    WHERE id = $2 AND user_id = $1 AND status = ANY($3::text[])
    RETURNING {REMINDER_COLUMNS}
), stop AS (
    UPDATE reminder_escalations e SET state = 'cancelled', done_at = now()
    FROM reminder_occurrences o, r
    WHERE $4 <> 'active' AND o.reminder_id = r.id AND o.status = 'pending'
      AND e.occurrence_id = o.id AND e.state = 'pending'
)
SELECT * FROM r
"""

_ACK = f"""
WITH a AS (
    UPDATE reminder_occurrences o
    SET status = CASE WHEN o.status = 'pending' AND $4 <= o.late_at THEN 'taken' ELSE 'late' END,
        acked_at = $4
    WHERE o.id = $3 AND o.reminder_id = $2 AND o.user_id = $1 AND o.status IN ('pending', 'missed')
      AND EXISTS (SELECT 1 FROM reminders r WHERE r.id = $2 AND r.user_id = $1 AND r.status <> 'deleted')
    RETURNING {OCCURRENCE_COLUMNS}
), stop AS (
    UPDATE reminder_escalations SET state = 'cancelled', done_at = $4
    WHERE occurrence_id IN (SELECT id FROM a) AND state = 'pending'
)
SELECT * FROM a
"""

_LATEST_UNACKED = f"""
SELECT {REMINDER_AS_R}, {OCCURRENCE_AS_O}
FROM reminder_occurrences o JOIN reminders r ON r.id = o.reminder_id
WHERE o.user_id = $1 AND o.status IN ('pending', 'missed') AND o.fired_at >= $3 AND o.due_at <= $2
  AND r.status <> 'deleted'
ORDER BY o.status = 'pending' DESC, r.medicine IS NOT NULL DESC, o.due_at DESC
LIMIT 1
"""


class PostgresReminderRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, reminder: Reminder) -> Reminder:
        s = reminder.schedule
        row = await self._conn.fetchrow(
            _ADD,
            reminder.id,
            reminder.user_id,
            reminder.conversation_id,
            reminder.source_task_id,
            reminder.what,
            reminder.medicine,
            reminder.dose,
            s.first_at,
            s.rule,
            s.timezone,
            reminder.escalate,
            reminder.status.value,
            reminder.next_due_at,
        )
        return reminder_from_row(row)

    async def get(self, user_id: uuid.UUID, reminder_id: uuid.UUID) -> Reminder | None:
        row = await self._conn.fetchrow(
            f"""SELECT {REMINDER_COLUMNS} FROM reminders
                WHERE id = $2 AND user_id = $1 AND status <> 'deleted'""",
            user_id,
            reminder_id,
        )
        return reminder_from_row(row) if row else None

    async def of_user(self, user_id: uuid.UUID, statuses: Sequence[ReminderStatus]) -> list[Reminder]:
        rows = await self._conn.fetch(
            f"""SELECT {REMINDER_COLUMNS} FROM reminders
                WHERE user_id = $1 AND status <> 'deleted' AND status = ANY($2::text[])
                ORDER BY created_at, id""",
            user_id,
            [s.value for s in statuses],
        )
        return [reminder_from_row(r) for r in rows]

    async def change_status(
        self,
        user_id: uuid.UUID,
        reminder_id: uuid.UUID,
        from_statuses: Sequence[ReminderStatus],
        to_status: ReminderStatus,
        next_due_at: datetime | None,
    ) -> Reminder | None:
        row = await self._conn.fetchrow(
            _CHANGE_STATUS,
            user_id,
            reminder_id,
            [s.value for s in from_statuses],
            to_status.value,
            next_due_at,
        )
        return reminder_from_row(row) if row else None

    async def occurrences(self, user_id: uuid.UUID, reminder_id: uuid.UUID, limit: int) -> list[Occurrence]:
        rows = await self._conn.fetch(
            f"""SELECT {OCCURRENCE_COLUMNS} FROM reminder_occurrences
                WHERE reminder_id = $2 AND user_id = $1 ORDER BY due_at DESC LIMIT $3""",
            user_id,
            reminder_id,
            limit,
        )
        return [occurrence_from_row(r) for r in rows]

    async def ack(
        self, user_id: uuid.UUID, reminder_id: uuid.UUID, occurrence_id: uuid.UUID, at: datetime
    ) -> Occurrence | None:
        row = await self._conn.fetchrow(_ACK, user_id, reminder_id, occurrence_id, at)
        return occurrence_from_row(row) if row else None

    async def occurrence(self, user_id: uuid.UUID, occurrence_id: uuid.UUID) -> Occurrence | None:
        row = await self._conn.fetchrow(
            f"SELECT {OCCURRENCE_COLUMNS} FROM reminder_occurrences WHERE id = $2 AND user_id = $1",
            user_id,
            occurrence_id,
        )
        return occurrence_from_row(row) if row else None

    async def latest_unacked(
        self, user_id: uuid.UUID, now: datetime, since: datetime
    ) -> tuple[Reminder, Occurrence] | None:
        row = await self._conn.fetchrow(_LATEST_UNACKED, user_id, now, since)
        return (reminder_from_row(row, "r_"), occurrence_from_row(row, "o_")) if row else None

    async def counts(self, user_id: uuid.UUID, reminder_id: uuid.UUID, since: datetime) -> dict[str, int]:
        rows = await self._conn.fetch(
            """SELECT status, count(*) AS n, count(*) FILTER (WHERE reason = 'not_delivered') AS not_delivered
               FROM reminder_occurrences WHERE reminder_id = $2 AND user_id = $1 AND due_at >= $3
               GROUP BY status""",
            user_id,
            reminder_id,
            since,
        )
        counts = {r["status"]: int(r["n"]) for r in rows}
        counts["not_delivered"] = sum(int(r["not_delivered"]) for r in rows)
        return counts

    async def ledger(
        self, user_id: uuid.UUID, reminder_ids: Sequence[uuid.UUID], start: datetime, end: datetime
    ) -> list[Occurrence]:
        rows = await self._conn.fetch(
            f"""SELECT {OCCURRENCE_COLUMNS} FROM reminder_occurrences
                WHERE user_id = $1 AND reminder_id = ANY($2::uuid[]) AND due_at >= $3 AND due_at < $4
                ORDER BY due_at""",
            user_id,
            list(reminder_ids),
            start,
            end,
        )
        return [occurrence_from_row(r) for r in rows]

    async def policy(self, user_id: uuid.UUID) -> EscalationPolicy:
        row = await self._conn.fetchrow(
            "SELECT steps, missed_after_seconds FROM reminder_policies WHERE user_id = $1", user_id
        )
        return policy_from_json(row["steps"], row["missed_after_seconds"]) if row else EscalationPolicy()

    async def set_policy(self, user_id: uuid.UUID, policy: EscalationPolicy) -> None:
        await self._conn.execute(
            """INSERT INTO reminder_policies (user_id, steps, missed_after_seconds) VALUES ($1, $2, $3)
               ON CONFLICT (user_id) DO UPDATE SET steps = excluded.steps,
                   missed_after_seconds = excluded.missed_after_seconds, updated_at = now()""",
            user_id,
            steps_to_json(policy.steps),
            policy.missed_after_seconds,
        )


def reminder_repository(uow: UnitOfWork) -> PostgresReminderRepository:
    """The repository on the unit of work's connection (domain.reminders.ReminderRepositories)."""
    if not isinstance(uow, PostgresUnitOfWork):
        raise TypeError(f"reminders need a PostgreSQL unit of work, not {type(uow).__name__}")
    return PostgresReminderRepository(uow.conn)
