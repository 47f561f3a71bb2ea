"""Row to domain-model mapping, shared by the repositories."""

from __future__ import annotations

from typing import Any

from domain.tasks import Lane, Task, TaskEvent, TaskStatus

TASK_COLUMNS = (
    "id, user_id, conversation_id, kind, lane, intent, status, attempts, created_at, updated_at, "
    "slots, input, reply, result, error, parser"
)


def task_from_row(row: Any) -> Task:
    return Task(
        id=row["id"],
        user_id=row["user_id"],
        conversation_id=row["conversation_id"],
        kind=row["kind"],
        lane=Lane(row["lane"]),
        intent=row["intent"],
        status=TaskStatus(row["status"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        slots=row["slots"],
        input=row["input"],
        reply=row["reply"],
        result=row["result"],
        error=row["error"],
        parser=row["parser"],
    )


def event_from_row(row: Any) -> TaskEvent:
    return TaskEvent(
        task_id=row["task_id"],
        at=row["at"],
        from_status=TaskStatus(row["from_status"]) if row["from_status"] else None,
        to_status=TaskStatus(row["to_status"]),
        reason=row["reason"],
        attempt=row["attempt"],
    )
