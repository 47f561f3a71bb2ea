"""The Lambda entry point against real PostgreSQL and Redis: called as Lambda calls it (a sync
function, settings from ERRAND_* variables, a context whose remaining time runs down)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.tasks import Lane, TaskStatus
from providers.redis_streams import GROUP
from providers.settings import Settings
from providers.wiring import Providers
from tests.helpers import count, enqueue, ensure_probe_tables, get, make_user
from workers import lambda_handler

FUNCTION = "errand-booking-drain"


class FakeContext:
    """Lambda's context as the handler sees it: a name and a clock running towards the timeout."""

    function_name = FUNCTION

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@pytest.fixture
async def lambda_env(
    settings: Settings, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    """The test's settings as the environment Lambda would give the function."""
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_PREFIX": settings.redis_prefix,
        "EXTRA_SKILLS": '["tests.skills"]',
        "DATA_DIR": str(settings.data_dir),
        "VISIBILITY_TIMEOUT_SECONDS": str(settings.visibility_timeout_seconds),
        "RECLAIM_INTERVAL_SECONDS": str(settings.reclaim_interval_seconds),
        "LEASE_MARGIN_SECONDS": str(settings.lease_margin_seconds),
        "SHUTDOWN_GRACE_SECONDS": str(settings.shutdown_grace_seconds),
        "WORKER_BLOCK_MS": str(settings.worker_block_ms),
        "WORKER_CONCURRENCY": "4",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "5",
        "LOG_JSON": "false",
        "KNOWLEDGE_WARM_UP": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(f"ERRAND_{name}", value)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        await asyncio.to_thread(lambda_handler.shutdown)
        root.handlers[:], root.level = handlers, level  # the handler configures logging as Lambda's edge


async def invoke(event: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Lambda calls the handler synchronously; here it runs in a thread beside the test's loop."""
    return await asyncio.to_thread(lambda_handler.handler, event, FakeContext(seconds))


async def stream_state(providers: Providers, lane: Lane) -> tuple[set[uuid.UUID], int]:
    """Task ids of the entries still in the lane's stream, and the group's unacked entries."""
    key = providers.streams.keys.stream(lane)
    entries: Any = await providers.redis.xrange(key)
    pending: Any = await providers.redis.xpending(key, GROUP)
    return {uuid.UUID(fields[b"task_id"].decode()) for _, fields in entries}, int(pending["pending"])


async def statuses(providers: Providers, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, TaskStatus]:
    return {task_id: (await get(providers, task_id)).status for task_id in task_ids}


async def test_a_short_invocation_does_what_fits_and_the_next_finishes_the_rest(
    providers: Providers, lambda_env: None
) -> None:
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    task_ids = [await enqueue(providers, user, "probe", {"sleep": 0.2}) for _ in range(40)]

    context = FakeContext(3.0)
    first = await asyncio.to_thread(lambda_handler.handler, {"lane": "booking", "max_tasks": 100}, context)

    assert context.get_remaining_time_in_millis() > 0, "Lambda would have killed the invocation"
    assert first["stopped_because"] == "time"
    assert 0 < first["done"] < len(task_ids)
    assert first["left_pending"] == 0
    after_first = await statuses(providers, task_ids)
    succeeded = {t for t, status in after_first.items() if status is TaskStatus.SUCCEEDED}
    assert len(succeeded) == first["done"]
    assert set(after_first.values()) <= {TaskStatus.SUCCEEDED, TaskStatus.QUEUED}
    in_stream, unacked = await stream_state(providers, Lane.BOOKING)
    assert unacked == 0  # everything it was handed is acked: nothing is left for a reclaim
    assert in_stream == set(task_ids) - succeeded  # done means acked and gone; the rest still waits

    second = await invoke({"lane": "booking", "max_tasks": 100}, seconds=30.0)

    assert second["stopped_because"] == "lane_empty"
    assert first["done"] + second["done"] == len(task_ids)
    assert set((await statuses(providers, task_ids)).values()) == {TaskStatus.SUCCEEDED}
    assert await stream_state(providers, Lane.BOOKING) == (set(), 0)
    assert (
        await count(providers, "SELECT count(*) FROM probe_effects WHERE task_id = ANY($1)", task_ids) == 40
    )
    runs = await count(
        providers,
        "SELECT count(*) FROM (SELECT task_id FROM probe_runs WHERE task_id = ANY($1) "
        "GROUP BY task_id HAVING count(*) > 1) twice",
        task_ids,
    )
    assert runs == 0, "a task ran twice"


async def test_max_tasks_bounds_one_invocation(providers: Providers, lambda_env: None) -> None:
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    task_ids = [await enqueue(providers, user, "probe") for _ in range(10)]

    first = await invoke({"lane": "booking", "max_tasks": 3}, seconds=20.0)

    assert first == {
        "lane": "booking",
        "done": 3,
        "acked": 3,
        "left_pending": 0,
        "stopped_because": "max_tasks",
    }
    done = {t for t, s in (await statuses(providers, task_ids)).items() if s is TaskStatus.SUCCEEDED}
    assert len(done) == 3
    assert await stream_state(providers, Lane.BOOKING) == (set(task_ids) - done, 0)

    rest = await invoke({"lane": "booking"}, seconds=20.0)

    assert (rest["done"], rest["stopped_because"]) == (7, "lane_empty")
    assert set((await statuses(providers, task_ids)).values()) == {TaskStatus.SUCCEEDED}


async def test_an_invocation_first_finishes_what_the_last_one_left_pending(
    providers: Providers, lambda_env: None
) -> None:
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    task_id = await enqueue(providers, user, "probe")
    await providers.streams.ensure_groups([Lane.BOOKING])
    # An earlier invocation was handed the entry and timed out before claiming it.
    held = await providers.streams.read([Lane.BOOKING], f"lambda:{FUNCTION}", 10, None)
    assert [e.task_id for e in held] == [task_id]

    result = await invoke({"lane": "booking", "max_tasks": 10}, seconds=20.0)

    assert (result["done"], result["acked"], result["left_pending"]) == (1, 1, 0)
    assert (await get(providers, task_id)).status is TaskStatus.SUCCEEDED
    assert await stream_state(providers, Lane.BOOKING) == (set(), 0)


@pytest.mark.parametrize(
    ("event", "complaint"),
    [
        ({"lane": "laundry"}, "unknown lane 'laundry'; lanes are booking, reminder, notify, answer, speech"),
        ({"max_tasks": 5}, "unknown lane None"),
        ({"lane": "booking", "max_tasks": 0}, "max_tasks must be a whole number from 1 to 10000, not 0"),
        ({"lane": "booking", "max_tasks": "100"}, "max_tasks must be a whole number"),
        ({"lane": "booking", "max_tasks": True}, "max_tasks must be a whole number"),
        ({"lane": "booking", "max_tasks": 2.5}, "max_tasks must be a whole number"),
        (["booking"], "the event must be an object"),
    ],
)
def test_a_bad_event_gets_a_clear_error_not_a_crash(event: object, complaint: str) -> None:
    result = lambda_handler.handler(event, FakeContext(3.0))
    assert complaint in result["error"]
    assert "done" not in result
