"""Redis Streams: one stream and consumer group per lane, a DLQ stream, and task-change announcements.

Stream entries are doorbells (task id and kind); the task row in PostgreSQL is the truth. Keys are
hash-tagged per lane (`errand:{booking}:stream`) so each lane lives on one Redis Cluster slot.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from domain.ports import Doorbell
from domain.tasks import Lane
from providers.breaker import CircuitBreaker, CircuitOpen

log = logging.getLogger(__name__)

GROUP = "workers"


@dataclass(frozen=True, slots=True)
class Entry:
    """A stream entry as a worker receives it."""

    lane: Lane
    entry_id: str
    task_id: uuid.UUID | None
    """None for a malformed entry, which is acked and dropped."""
    kind: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    task_id: uuid.UUID
    lane: Lane
    kind: str
    error: str


@dataclass(frozen=True, slots=True)
class LaneStats:
    lane: Lane
    length: int
    pending: int
    lag: int | None
    """Entries not yet delivered to any consumer (Redis 7 reports it; None on older servers)."""
    oldest_pending_idle_ms: int


class StreamKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.dlq = f"{prefix}:dlq"
        self.updates = f"{prefix}:task-updates"

    def stream(self, lane: Lane) -> str:
        return f"{self.prefix}:{{{lane.value}}}:stream"


def _entries(lane: Lane, raw: Iterable[Any]) -> list[Entry]:
    out = []
    for entry_id, fields in raw:
        if fields is None:  # deleted while pending
            continue
        try:
            task_id: uuid.UUID | None = uuid.UUID(fields[b"task_id"].decode())
            kind = fields.get(b"kind", b"").decode()
        except (KeyError, ValueError, AttributeError):
            task_id, kind = None, ""
        out.append(Entry(lane, entry_id.decode(), task_id, kind))
    return out


class RedisStreams:
    """The task queue (API, scheduler) and the consumer side (workers) of the lane streams."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: StreamKeys,
        breaker: CircuitBreaker | None = None,
        *,
        cluster: bool = False,
    ) -> None:
        self._redis = client
        self.keys = keys
        self._cluster = cluster
        """On Redis Cluster each lane's stream has a slot of its own: one XREADGROUP per lane."""
        self._next_lane = 0
        self._breaker = breaker or CircuitBreaker("redis-publish", failure_threshold=3, reset_seconds=2.0)
        self._waiting: list[tuple[Sequence[Doorbell], asyncio.Future[bool]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, doorbells: Sequence[Doorbell]) -> bool:
        """XADD the doorbells. False when Redis is unreachable (the outbox relay publishes later).

        Group commit: publishes that arrive while one is in flight wait and go together in the next
        pipeline, so a busy API pays one round trip and one client call per batch, not per request
        (measured: the client's per-command cost was the API's largest after FastAPI's own).
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((doorbells, done))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_waiting())
        return await done

    async def _send_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    sent = await self._send([bell for bells, _ in batch for bell in bells])
                except BaseException as exc:  # a bug or a cancellation: every waiter hears of it
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    raise
                for _, done in batch:
                    if not done.done():  # its request may have gone (client disconnected)
                        done.set_result(sent)
        finally:
            self._sender = None

    async def _send(self, doorbells: list[Doorbell]) -> bool:
        try:
            await self._breaker.call(lambda: self._xadd(doorbells))
        except CircuitOpen:
            return False
        except (RedisError, OSError) as exc:
            log.warning("publish failed; the outbox relay will publish later", extra={"error": repr(exc)})
            return False
        return True

    async def _xadd(self, doorbells: Sequence[Doorbell]) -> None:
        if len(doorbells) == 1:  # a pipeline object costs more than it saves for one command
            bell = doorbells[0]
            await self._redis.xadd(
                self.keys.stream(bell.lane), {"task_id": str(bell.task_id), "kind": bell.kind}
            )
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for bell in doorbells:
                pipe.xadd(self.keys.stream(bell.lane), {"task_id": str(bell.task_id), "kind": bell.kind})
            await pipe.execute()

    async def ensure_groups(self, lanes: Iterable[Lane]) -> None:
        for lane in lanes:
            try:
                await self._redis.xgroup_create(self.keys.stream(lane), GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read(
        self,
        lanes: Sequence[Lane],
        consumer: str,
        count: int,
        block_ms: int | None,
        own_pending: bool = False,
    ) -> list[Entry]:
        """New entries (`>`), or with `own_pending` the entries this consumer holds unacked (`0`)."""
        start = "0" if own_pending else ">"
        if self._cluster and len(lanes) > 1:
            return await self._read_lane_by_lane(lanes, consumer, count, block_ms, start)
        streams = {self.keys.stream(lane): start for lane in lanes}
        reply: Any = await self._redis.xreadgroup(GROUP, consumer, streams, count=count, block=block_ms)  # type: ignore[arg-type]
        by_key = {self.keys.stream(lane): lane for lane in lanes}
        out: list[Entry] = []
        for key, raw in reply or []:
            out.extend(_entries(by_key[key.decode()], raw))
        return out

    async def _read_lane_by_lane(
        self, lanes: Sequence[Lane], consumer: str, count: int, block_ms: int | None, start: str
    ) -> list[Entry]:
        """Cluster mode: streams of several slots cannot be read in one command. Every lane is
        read without blocking; when all are empty, the worker blocks on one lane at a time, in
        turn, for a share of `block_ms`, so a quiet worker still sees each lane within `block_ms`."""
        out: list[Entry] = []
        for lane in lanes:
            out += await self._read_one(lane, consumer, count - len(out), None, start)
            if len(out) >= count:
                return out
        if out or block_ms is None:
            return out
        self._next_lane = (self._next_lane + 1) % len(lanes)
        share = max(1, block_ms // len(lanes))
        return await self._read_one(lanes[self._next_lane], consumer, count, share, start)

    async def _read_one(
        self, lane: Lane, consumer: str, count: int, block_ms: int | None, start: str
    ) -> list[Entry]:
        key = self.keys.stream(lane)
        reply: Any = await self._redis.xreadgroup(GROUP, consumer, {key: start}, count=count, block=block_ms)
        return [entry for _, raw in reply or [] for entry in _entries(lane, raw)]

    async def reclaim(self, lane: Lane, consumer: str, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Entries that other consumers have held unacked for `min_idle_ms` (they likely died)."""
        reply = await self._redis.xautoclaim(
            self.keys.stream(lane), GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        return _entries(lane, reply[1])

    async def finish(
        self,
        acks: Mapping[Lane, Sequence[str]],
        dead_letters: Sequence[DeadLetter] = (),
        changed: Sequence[uuid.UUID] = (),
    ) -> None:
        """One round trip: ack and delete handled entries, file dead letters, announce changes.

        Deleting acked entries keeps each stream as long as its backlog. It is safe because every
        lane stream has exactly one consumer group.
        """
        async with self._redis.pipeline(transaction=False) as pipe:
            for lane, ids in acks.items():
                if ids:
                    pipe.xack(self.keys.stream(lane), GROUP, *ids)
                    pipe.xdel(self.keys.stream(lane), *ids)
            for dl in dead_letters:
                fields = {
                    "task_id": str(dl.task_id),
                    "lane": dl.lane.value,
                    "kind": dl.kind,
                    "error": dl.error,
                }
                pipe.xadd(self.keys.dlq, fields)  # type: ignore[arg-type]
            if changed and not self._cluster:
                pipe.publish(self.keys.updates, ",".join(str(t) for t in changed))
            await pipe.execute()
        if changed and self._cluster:  # a cluster pipeline cannot carry PUBLISH
            await self.announce(changed)

    async def announce(self, changed: Sequence[uuid.UUID]) -> None:
        if changed:
            await self._redis.publish(self.keys.updates, ",".join(str(t) for t in changed))

    async def discard(self, task_id: uuid.UUID) -> None:
        """Remove a task's entries from the DLQ stream (after a replay)."""
        wanted = str(task_id).encode()
        entries: Any = await self._redis.xrange(self.keys.dlq)
        doomed = [entry_id for entry_id, fields in entries if fields.get(b"task_id") == wanted]
        if doomed:
            await self._redis.xdel(self.keys.dlq, *doomed)

    async def dlq_length(self) -> int:
        return int(await self._redis.xlen(self.keys.dlq))

    async def lane_stats(self, lane: Lane) -> LaneStats:
        key = self.keys.stream(lane)
        length = int(await self._redis.xlen(key))
        groups = await self._redis.xinfo_groups(key) if length or await self._redis.exists(key) else []
        group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
        pending, lag, idle = 0, None, 0
        if group is not None:
            pending = int(group["pending"])
            lag = int(group["lag"]) if group.get("lag") is not None else None
            if pending:
                oldest = await self._redis.xpending_range(key, GROUP, min="-", max="+", count=1)
                idle = int(oldest[0]["time_since_delivered"]) if oldest else 0
        return LaneStats(lane, length, pending, lag, idle)

    async def trim(self, lanes: Iterable[Lane]) -> int:
        """Drop each lane's entries that every consumer is done with; returns how many went.

        The floor is the oldest entry still pending (delivered, not acked) or, with none pending,
        the group's last delivered entry: everything below it was delivered and acked, so nothing
        unacked or undelivered is ever dropped (XTRIM MINID keeps the floor itself). The task row
        in PostgreSQL stays the truth; a trimmed doorbell was already answered.
        """
        removed = 0
        for lane in lanes:
            key = self.keys.stream(lane)
            try:
                groups = await self._redis.xinfo_groups(key)
            except ResponseError:  # no such stream yet
                continue
            group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
            if group is None or len(groups) != 1:
                continue  # another group reads this stream: its progress is not ours to judge
            floor = group["last-delivered-id"]
            if int(group["pending"]):
                oldest = await self._redis.xpending_range(key, GROUP, min="-", max="+", count=1)
                if oldest:
                    floor = oldest[0]["message_id"]
            if floor in (b"0-0", "0-0"):
                continue
            removed += int(await self._redis.xtrim(key, minid=floor, approximate=False))
        return removed

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False
