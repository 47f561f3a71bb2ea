"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from api.deps import ProvidersDep
from api.errors import problem
from domain.tasks import Lane

router = APIRouter(tags=["operations"])

TASKS = Gauge("errand_tasks", "Tasks by status and intent", ["status", "intent"])
RETRIES = Gauge("errand_task_retries", "Runs beyond the first, over all tasks", ["intent"])
STREAM_LENGTH = Gauge("errand_stream_length", "Entries in the lane stream (backlog + in flight)", ["lane"])
STREAM_PENDING = Gauge("errand_stream_pending", "Entries delivered but not yet acked", ["lane"])
STREAM_LAG = Gauge("errand_stream_lag", "Entries not yet delivered to any worker", ["lane"])
STREAM_IDLE = Gauge("errand_stream_oldest_pending_seconds", "Idle time of the oldest unacked entry", ["lane"])
DLQ = Gauge("errand_dlq_size", "Dead-lettered tasks")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "PostgreSQL or Redis is unreachable"}})
async def readyz(providers: ProvidersDep) -> Response:
    """PostgreSQL and Redis both answer."""
    db_ok = await _db_ok(providers)
    redis_ok = await providers.streams.ping()
    if db_ok and redis_ok:
        return Response('{"status":"ready"}', media_type="application/json")
    down = [name for name, ok in (("postgres", db_ok), ("redis", redis_ok)) if not ok]
    return problem(503, "Not ready", f"unreachable: {', '.join(down)}")


async def _db_ok(providers: ProvidersDep) -> bool:
    try:
        async with asyncio.timeout(2.0):
            return bool(await providers.pool.fetchval("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False


@router.get("/metrics", include_in_schema=False)
async def metrics(providers: ProvidersDep) -> Response:
    await _refresh_task_gauges(providers)
    await _refresh_stream_gauges(providers)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _refresh_task_gauges(providers: ProvidersDep) -> None:
    try:
        rows = await providers.pool.fetch(
            "SELECT status, intent, count(*) AS n, sum(greatest(attempts - 1, 0)) AS retries "
            "FROM tasks GROUP BY status, intent"
        )
    except Exception:  # noqa: BLE001 - metrics must answer even when the database does not
        return
    TASKS.clear()
    RETRIES.clear()
    retries: dict[str, int] = {}
    for row in rows:
        TASKS.labels(row["status"], row["intent"]).set(row["n"])
        retries[row["intent"]] = retries.get(row["intent"], 0) + int(row["retries"] or 0)
    for intent, count in retries.items():
        RETRIES.labels(intent).set(count)
    DLQ.set(sum(row["n"] for row in rows if row["status"] == "dead_lettered"))


async def _refresh_stream_gauges(providers: ProvidersDep) -> None:
    for lane in Lane:
        try:
            stats = await providers.streams.lane_stats(lane)
        except Exception:  # noqa: BLE001
            continue
        STREAM_LENGTH.labels(lane.value).set(stats.length)
        STREAM_PENDING.labels(lane.value).set(stats.pending)
        STREAM_IDLE.labels(lane.value).set(stats.oldest_pending_idle_ms / 1000)
        if stats.lag is not None:
            STREAM_LAG.labels(lane.value).set(stats.lag)
