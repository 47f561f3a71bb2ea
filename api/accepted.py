"""The 202 answer of POST /v1/messages, typed or spoken: the shape is `MessageAccepted`."""

from __future__ import annotations

import orjson
from fastapi import Response

from domain.tasks import Task


def accepted_response(task: Task, replayed: bool) -> Response:
    """Serialized directly, not through the response model: this is the API's hot path."""
    answer = {
        "task_id": str(task.id),
        "conversation_id": str(task.conversation_id),
        "status": task.status.value,
        "intent": task.intent,
        "status_url": f"/v1/tasks/{task.id}",
    }
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(orjson.dumps(answer), status_code=202, media_type="application/json", headers=headers)
