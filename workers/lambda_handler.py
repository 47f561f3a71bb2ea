"""AWS Lambda entry point (`workers.lambda_handler.handler`): drain a bounded batch of one lane.

Event: `{"lane": "booking", "max_tasks": 100}`. The invocation runs the ordinary `Worker` as one
consumer named after the function, in bounded mode: its own pending entries first (what an earlier
invocation left), then one reclaim of dead consumers' entries, then new ones, until the lane is
empty, `max_tasks` were taken, or the remaining time nears the end. In-flight tasks then get a
drain window to finish. An entry is acked only after its task's outcome is committed, or after
its unfinished task was released back to `queued` in PostgreSQL (the scheduler publishes it
again); if even that fails, the entry stays pending for the next invocation or for XAUTOCLAIM.

The scheduler (`python -m workers.scheduler`) must still run somewhere: it publishes released,
retried and due tasks, and republishes the tasks of a lease that ran out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from domain.tasks import Lane
from providers.logs import configure_logging
from providers.redis_streams import GROUP
from providers.settings import Settings
from providers.wiring import Providers, build_providers
from workers.worker import INFRA_ERRORS, RunCounts, Worker, WorkerConfig

log = logging.getLogger(__name__)

DEFAULT_MAX_TASKS = 100
MAX_TASKS_LIMIT = 10_000
SAFETY_SECONDS = 1.0
"""Kept free at the end of every invocation: handing back unfinished tasks, the last acks, the reply."""
READ_BLOCK_MS = 200
"""The longest a read for new entries waits: an empty lane ends a run this soon, and a stop is
noticed within it (the long-running worker's ERRAND_WORKER_BLOCK_MS would eat the margin)."""
DRAIN_SHARE = 0.25
"""At most this share of an invocation (and never more than ERRAND_SHUTDOWN_GRACE_SECONDS) is kept
for in-flight tasks to finish, so a short invocation still spends most of its time working."""


class LambdaContext(Protocol):
    """The part of the Lambda context object this handler uses."""

    function_name: str

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class DrainRequest:
    lane: Lane
    max_tasks: int


@dataclass
class _Container:
    loop: asyncio.AbstractEventLoop
    """Lives as long as the container: the pool and clients below belong to it, so every
    invocation runs on it (asyncio.run would give each a new loop and strand them)."""
    providers: Providers


_container: _Container | None = None
"""Built by a container's first invocation and reused while Lambda keeps the container warm: the
composition root costs a few hundred milliseconds of CPU (the intent classifier, TLS contexts, the
pool's connections), too much to pay per invocation. A connection that died while the container
was frozen fails one read (retried on a fresh one) or one claim (its entries stay pending, and the
next invocation takes them first). The only module-level state in the workers, and only because a
Lambda container has no other place for it; `shutdown()` closes it."""


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    """Drain a bounded batch of `event["lane"]`. Returns `{"lane", "done", "acked", "left_pending",
    "stopped_because"}`, or `{"lane", "error"}` for an event it cannot serve (nothing is read then).
    Infrastructure failures while building the providers raise: Lambda records a failed invocation."""
    try:
        request = parse_event(event)
    except ValueError as exc:
        lane = event.get("lane") if isinstance(event, Mapping) else None
        return {"lane": lane, "error": str(exc)}
    container = _warm_container()
    return container.loop.run_until_complete(drain(request, container.providers, context))


def parse_event(event: object) -> DrainRequest:
    """Raises ValueError with a message meant for whoever configured the trigger."""
    if not isinstance(event, Mapping):
        raise ValueError('the event must be an object like {"lane": "booking", "max_tasks": 100}')
    raw_lane = event.get("lane")
    lanes = [lane.value for lane in Lane]
    if not isinstance(raw_lane, str) or raw_lane not in lanes:
        raise ValueError(f"unknown lane {raw_lane!r}; lanes are {', '.join(lanes)}")
    max_tasks = event.get("max_tasks", DEFAULT_MAX_TASKS)
    if isinstance(max_tasks, bool) or not isinstance(max_tasks, int) or not 1 <= max_tasks <= MAX_TASKS_LIMIT:
        raise ValueError(f"max_tasks must be a whole number from 1 to {MAX_TASKS_LIMIT}, not {max_tasks!r}")
    return DrainRequest(Lane(raw_lane), max_tasks)


async def drain(request: DrainRequest, providers: Providers, context: LambdaContext) -> dict[str, Any]:
    budget = context.get_remaining_time_in_millis() / 1000
    grace = min(providers.settings.shutdown_grace_seconds, budget * DRAIN_SHARE)
    config = worker_config(request, providers.settings, consumer_name(context), grace)
    worker = Worker.for_providers(config, providers)
    stop = asyncio.Event()
    # Stop taking entries while the longest read, the drain window and the margin still fit.
    stop_in = budget - SAFETY_SECONDS - grace - READ_BLOCK_MS / 1000
    timer = asyncio.get_running_loop().call_later(max(stop_in, 0.0), stop.set)
    try:
        await worker.run(stop)
    finally:
        timer.cancel()
    counts = worker.counts()
    summary = {
        "lane": request.lane.value,
        "done": counts.committed,
        "acked": counts.acked,
        "left_pending": await _held_by(providers, request.lane, config.consumer),
        "stopped_because": _why_stopped(counts, request, stop),
    }
    log.info("lambda drain finished", extra=summary)
    return summary


def _why_stopped(counts: RunCounts, request: DrainRequest, stop: asyncio.Event) -> str:
    if counts.taken >= request.max_tasks:
        return "max_tasks"
    return "time" if stop.is_set() else "lane_empty"


def worker_config(request: DrainRequest, settings: Settings, consumer: str, grace: float) -> WorkerConfig:
    return WorkerConfig(
        lanes=[request.lane],
        consumer=consumer,
        concurrency=min(settings.worker_concurrency, request.max_tasks),
        batch=min(settings.worker_batch, request.max_tasks),
        block_ms=min(settings.worker_block_ms, READ_BLOCK_MS),
        visibility_ms=int(settings.visibility_timeout_seconds * 1000),
        reclaim_interval=settings.reclaim_interval_seconds,
        shutdown_grace=grace,
        lease_margin=settings.lease_margin_seconds,
        max_tasks=request.max_tasks,
        until_idle=True,
    )


def consumer_name(context: LambdaContext) -> str:
    """Stable across invocations, so the next one re-reads what this one left pending before it
    takes new entries. Concurrent invocations sharing it stay correct: the task row's conditional
    claim decides who runs a task, and an entry re-read while another invocation runs its task is
    acked as a duplicate (the lease, not the entry, guards the task). Reserved concurrency 1 per
    lane's function keeps invocations from meeting at all."""
    return f"lambda:{context.function_name}"


async def _held_by(providers: Providers, lane: Lane, consumer: str) -> int | None:
    """Entries this consumer holds unacked (None when Redis does not answer)."""
    try:
        summary: Any = await providers.redis.xpending(providers.streams.keys.stream(lane), GROUP)
    except INFRA_ERRORS:
        return None
    wanted = consumer.encode()
    return sum(int(c["pending"]) for c in summary.get("consumers") or [] if c["name"] == wanted)


def _warm_container() -> _Container:
    global _container
    if _container is None:
        settings = Settings()
        configure_logging(settings.log_level, settings.log_json)
        loop = asyncio.new_event_loop()
        try:
            providers = loop.run_until_complete(build_providers(settings))
        except BaseException:
            loop.close()
            raise
        _container = _Container(loop, providers)
    return _container


def shutdown() -> None:
    """Close the container's providers and loop. Lambda itself never calls it (a container is
    frozen, then discarded); tests and local runs do, so nothing is left open."""
    global _container
    container, _container = _container, None
    if container is None:
        return
    try:
        container.loop.run_until_complete(container.providers.aclose())
        container.loop.run_until_complete(container.loop.shutdown_asyncgens())
    finally:
        container.loop.close()
