"""The worker loop: read a batch, claim it in one statement, run handlers, group-commit, ack.

At-least-once delivery with exactly-once outcomes: an entry is acked only after its task's
outcome is committed; a duplicate entry finds its task claimed or finished and is just acked;
entries of a dead worker are reclaimed with XAUTOCLAIM after the visibility timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram
from redis.exceptions import RedisError

from domain.ports import Clock, UnitOfWorkFactory
from domain.skills import SkillContext, SkillRegistry
from domain.tasks import Lane, Outcome, TaskStatus
from providers.logs import task_id as task_id_var
from providers.postgres.runs import ClaimedTask, Completion, PostgresTaskRuns
from providers.redis_streams import DeadLetter, Entry, RedisStreams
from workers.running import run_task

if TYPE_CHECKING:
    from providers.wiring import Providers

log = logging.getLogger(__name__)

TASKS = Counter(
    "errand_worker_tasks_total", "Task outcomes recorded by this worker", ["lane", "kind", "status"]
)
RETRIES = Counter(
    "errand_worker_retries_total", "Task runs that ended in a scheduled retry", ["lane", "kind"]
)
DURATION = Histogram("errand_worker_task_seconds", "Handler run time", ["lane", "kind"])
INFRA_ERRORS = (RedisError, OSError, ConnectionError)


@dataclass(frozen=True)
class WorkerConfig:
    lanes: Sequence[Lane]
    consumer: str
    concurrency: int = 16
    batch: int = 256
    block_ms: int = 1000
    visibility_ms: int = 60_000
    reclaim_interval: float = 5.0
    shutdown_grace: float = 20.0
    lease_margin: float = 15.0
    max_tasks: int | None = None
    """A bounded run (the Lambda entry point): claim at most this many tasks, then drain and return.
    It reclaims once, in line with its reads rather than beside them, so the bound is exact."""
    until_idle: bool = False
    """Return when a read of new entries finds none, instead of waiting for more."""


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What one run did, for a caller that reports it (the Lambda entry point)."""

    taken: int
    """Tasks claimed and started."""
    committed: int
    """Outcomes recorded: succeeded, retrying or dead-lettered."""
    acked: int
    """Stream entries acked: finished tasks, duplicates, tasks handed back at shutdown."""


@dataclass(slots=True)
class _Done:
    entry: Entry
    claimed: ClaimedTask
    outcome: Outcome
    elapsed: float


@dataclass
class _State:
    inflight: int = 0
    running: dict[uuid.UUID, tuple[Entry, asyncio.Task[None]]] = field(default_factory=dict)
    dup_acks: defaultdict[Lane, list[str]] = field(default_factory=lambda: defaultdict(list))
    slot_freed: asyncio.Event = field(default_factory=asyncio.Event)
    taken: int = 0
    committed: int = 0
    acked: int = 0


class Worker:
    def __init__(
        self,
        config: WorkerConfig,
        *,
        streams: RedisStreams,
        runs: PostgresTaskRuns,
        registry: SkillRegistry,
        uow: UnitOfWorkFactory,
        clock: Clock | None = None,
        ports: Mapping[type, object] | None = None,
    ) -> None:
        self.cfg = config
        self._streams = streams
        self._runs = runs
        self._registry = registry
        self._ctx = SkillContext(worker=config.consumer, uow=uow, clock=clock, ports=ports or {})
        self._done: asyncio.Queue[_Done] = asyncio.Queue()
        self._state = _State()

    @classmethod
    def for_providers(cls, config: WorkerConfig, providers: Providers) -> Worker:
        """A worker on the process's providers: how the CLI, the Lambda handler and the tests make one."""
        return cls(
            config,
            streams=providers.streams,
            runs=providers.runs,
            registry=providers.registry,
            uow=providers.uow,
            clock=providers.clock,
            ports=providers.skill_ports,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set (or a bounded run is done), then finish or release what is
        held, and return."""
        await self._until_ready(stop)
        committer = asyncio.create_task(self._commit_loop(), name="commit")
        bounded = self.cfg.max_tasks is not None
        reclaimer = None if bounded else asyncio.create_task(self._reclaim_loop(stop), name="reclaim")
        try:
            await self._read_loop(stop, own_pending=True)
            if bounded and not stop.is_set():
                await self._reclaim_once(stop)
            await self._read_loop(stop, own_pending=False)
        finally:
            await self._shutdown(committer, reclaimer)

    def counts(self) -> RunCounts:
        state = self._state
        return RunCounts(taken=state.taken, committed=state.committed, acked=state.acked)

    async def _until_ready(self, stop: asyncio.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            try:
                await self._streams.ensure_groups(self.cfg.lanes)
                return
            except INFRA_ERRORS as exc:
                log.warning("redis not reachable; waiting", extra={"error": repr(exc)})
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, 5.0)

    async def _read_loop(self, stop: asyncio.Event, *, own_pending: bool) -> None:
        """With `own_pending`, first re-run what this consumer name held before a restart.
        `XREADGROUP ... 0` returns all of those, the ones already started here too: these are
        skipped (not acked: their commit acks them), each read asks for as many more, and the
        pass ends when a read brings nothing new."""
        delay = 0.1
        seen: set[str] = set()
        while not stop.is_set():
            free = self._room()
            if free <= 0:
                if self._quota_spent():
                    return
                await self._wait_for_slot()
                continue
            try:
                block = None if own_pending else self.cfg.block_ms
                count = min(free, self.cfg.batch) + len(seen)
                entries = await self._streams.read(
                    self.cfg.lanes, self.cfg.consumer, count, block, own_pending
                )
                delay = 0.1
            except INFRA_ERRORS as exc:
                log.warning("stream read failed", extra={"error": repr(exc)})
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, 5.0)
                continue
            if own_pending:
                entries = [e for e in entries if e.entry_id not in seen]
                seen.update(e.entry_id for e in entries)
            if not entries and (own_pending or self.cfg.until_idle):
                return
            await self._dispatch(entries)

    def _room(self) -> int:
        """Entries to take now: free slots, within what is left of `max_tasks`."""
        free = self.cfg.concurrency - self._state.inflight
        if self.cfg.max_tasks is None:
            return free
        return min(free, self.cfg.max_tasks - self._state.taken)

    def _quota_spent(self) -> bool:
        return self.cfg.max_tasks is not None and self._state.taken >= self.cfg.max_tasks

    async def _wait_for_slot(self) -> None:
        self._state.slot_freed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self._state.slot_freed.wait()

    async def _dispatch(self, entries: Sequence[Entry]) -> None:
        """Claim the batch in one statement; start what was claimed, ack the rest (duplicates,
        finished tasks, malformed entries). On a database error nothing is acked: the entries
        stay pending and come back through XAUTOCLAIM."""
        wanted = [e for e in entries if e.task_id is not None and e.task_id not in self._state.running]
        try:
            claimed = await self._runs.claim(
                [e.task_id for e in wanted if e.task_id],
                self.cfg.consumer,
                [self._registry.lease_seconds(e.kind, self.cfg.lease_margin) for e in wanted],
            )
        except Exception as exc:  # noqa: BLE001 - database down or restarting: try again later
            log.warning("claim failed; entries stay pending", extra={"error": repr(exc)})
            await asyncio.sleep(0.5)
            return
        self._state.taken += len(claimed)
        by_id = {c.task.id: c for c in claimed}
        for entry in entries:
            task = by_id.pop(entry.task_id, None) if entry.task_id else None
            if task is None:
                self._state.dup_acks[entry.lane].append(entry.entry_id)
            else:
                self._start(entry, task)
        if claimed:
            with contextlib.suppress(*INFRA_ERRORS):
                await self._streams.announce([c.task.id for c in claimed])

    def _start(self, entry: Entry, claimed: ClaimedTask) -> None:
        self._state.inflight += 1
        job = asyncio.create_task(self._execute(entry, claimed))
        self._state.running[claimed.task.id] = (entry, job)

    async def _execute(self, entry: Entry, claimed: ClaimedTask) -> None:
        task = claimed.task
        token = task_id_var.set(str(task.id))
        started = time.perf_counter()
        try:
            outcome = await run_task(task, self._registry.get(task.kind), self._ctx, claimed.max_attempts)
        finally:
            task_id_var.reset(token)
        elapsed = time.perf_counter() - started
        DURATION.labels(task.lane.value, task.kind).observe(elapsed)
        self._done.put_nowait(_Done(entry, claimed, outcome, elapsed))

    async def _commit_loop(self) -> None:
        while True:
            batch = [await self._done.get()]
            while not self._done.empty() and len(batch) < self.cfg.batch:
                batch.append(self._done.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[_Done]) -> None:
        completions = [Completion(d.claimed.task.id, d.claimed.task.attempts, d.outcome) for d in batch]
        recorded = await self._record(completions)
        acks, self._state.dup_acks = self._state.dup_acks, defaultdict(list)
        dead: list[DeadLetter] = []
        for d in batch:
            task = d.claimed.task
            acks[task.lane].append(d.entry.entry_id)
            if task.id in recorded:
                self._count(d)
                if d.outcome.status is TaskStatus.DEAD_LETTERED:
                    dead.append(DeadLetter(task.id, task.lane, task.kind, d.outcome.reason))
        changed = [d.claimed.task.id for d in batch if d.claimed.task.id in recorded]
        if await self._finish(acks, dead, changed):
            self._state.acked += sum(len(ids) for ids in acks.values())
        self._state.committed += len(recorded)
        for d in batch:
            self._state.running.pop(d.claimed.task.id, None)
        self._state.inflight -= len(batch)
        self._state.slot_freed.set()

    async def _record(self, completions: list[Completion]) -> set[uuid.UUID]:
        """Commit outcomes, retrying while PostgreSQL is away: nothing is acked before this."""
        delay = 0.1
        while True:
            try:
                return await self._runs.complete(self.cfg.consumer, completions)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; keep the outcomes
                log.warning("recording outcomes failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _finish(
        self, acks: dict[Lane, list[str]], dead: list[DeadLetter], changed: list[uuid.UUID]
    ) -> bool:
        """Ack after commit; False when Redis stayed away. The entries are then redelivered later
        and acked as duplicates; only the DLQ stream copy of a dead letter would be missing (the
        row has it)."""
        for attempt in range(3):
            try:
                await self._streams.finish(acks, dead, changed)
                return True
            except INFRA_ERRORS as exc:
                log.warning("ack failed", extra={"error": repr(exc), "attempt": attempt + 1})
                await asyncio.sleep(0.2 * (attempt + 1))
        return False

    def _count(self, d: _Done) -> None:
        task, status = d.claimed.task, d.outcome.status
        TASKS.labels(task.lane.value, task.kind, status.value).inc()
        if status is TaskStatus.RETRYING:
            RETRIES.labels(task.lane.value, task.kind).inc()
        if log.isEnabledFor(logging.INFO):
            log.info(
                "task %s",
                status.value,
                extra={
                    "task_id": str(task.id),
                    "kind": task.kind,
                    "attempt": task.attempts,
                    "elapsed_ms": round(d.elapsed * 1000, 2),
                    "reason": d.outcome.reason,
                },
            )

    async def _reclaim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_or_stop(stop, self.cfg.reclaim_interval)
            await self._reclaim_once(stop)

    async def _reclaim_once(self, stop: asyncio.Event) -> None:
        for lane in self.cfg.lanes:
            free = self._room()
            if stop.is_set() or free <= 0:
                break
            try:
                entries = await self._streams.reclaim(lane, self.cfg.consumer, self.cfg.visibility_ms, free)
            except INFRA_ERRORS as exc:
                log.warning("reclaim failed", extra={"error": repr(exc)})
                continue
            if entries:
                log.info("reclaimed entries", extra={"lane": lane.value, "count": len(entries)})
                await self._dispatch(entries)

    async def _shutdown(self, committer: asyncio.Task[None], reclaimer: asyncio.Task[None] | None) -> None:
        """Finish what runs within the grace period; give the rest back; stop."""
        if reclaimer is not None:
            reclaimer.cancel()
        deadline = time.monotonic() + self.cfg.shutdown_grace
        while self._state.inflight and time.monotonic() < deadline:
            await self._wait_for_slot()
        leftovers = list(self._state.running.items())
        for _, (_, job) in leftovers:
            job.cancel()
        if leftovers:
            await self._give_back(leftovers)
        committer.cancel()
        for job in [committer] if reclaimer is None else [committer, reclaimer]:
            with contextlib.suppress(asyncio.CancelledError):
                await job
        with contextlib.suppress(*INFRA_ERRORS):
            await self._streams.finish(self._state.dup_acks)
            self._state.acked += sum(len(ids) for ids in self._state.dup_acks.values())

    async def _give_back(self, leftovers: list[tuple[uuid.UUID, tuple[Entry, asyncio.Task[None]]]]) -> None:
        try:
            released = await self._runs.release(self.cfg.consumer, [tid for tid, _ in leftovers])
        except Exception as exc:  # noqa: BLE001 - if this fails, the lease expiry recovers them
            log.warning("release failed; leases will expire", extra={"error": repr(exc)})
            return
        for tid, (entry, _) in leftovers:
            if tid in released:
                self._state.dup_acks[entry.lane].append(entry.entry_id)
        log.info("released unfinished tasks", extra={"count": len(released)})


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
