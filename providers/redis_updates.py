"""Task-change announcements over Redis pub/sub, for long-polling clients.

One subscription per API process fans out to every waiting request. Announcements are hints:
a waiter re-reads the task from PostgreSQL, and times out into a re-read if one is lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RedisTaskUpdates:
    def __init__(self, client: aioredis.Redis, channel: str) -> None:
        self._redis = client
        self._channel = channel
        self._waiters: defaultdict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="task-updates")

    async def aclose(self) -> None:
        """Stop listening. The listen loop also polls `_closing`, because a read blocked inside
        redis-py's pub/sub does not always see a cancellation."""
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait({self._listener}, timeout=2)
            self._listener = None

    async def wait(self, task_id: uuid.UUID, timeout: float) -> None:
        self.start()
        event = asyncio.Event()
        self._waiters[task_id].add(event)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(task_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[task_id]

    def _wake(self, payload: bytes) -> None:
        for raw in payload.split(b","):
            try:
                task_id = uuid.UUID(raw.decode())
            except ValueError:
                continue
            for event in self._waiters.get(task_id, ()):
                event.set()

    async def _listen(self) -> None:
        delay = 0.2
        while not self._closing:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    delay = 0.2
                    while not self._closing:
                        message = await pubsub.get_message(timeout=0.5)
                        if message is not None and message.get("type") == "message":
                            self._wake(message["data"])
            except (RedisError, OSError) as exc:
                if self._closing:
                    return
                log.debug("task-update subscription lost", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
