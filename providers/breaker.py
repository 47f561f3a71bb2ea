"""A circuit breaker for asyncio: it counts failures of awaited coroutines.

Why our own: pybreaker's async support is Tornado-based and never counts a failing asyncio
coroutine, so its circuit never opens under asyncio.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class CircuitOpen(Exception):
    """Raised instead of calling while the circuit is open."""


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `reset_seconds` lets one trial
    call through (half-open): its success closes the circuit, its failure opens it again."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 5.0,
        counts: tuple[type[BaseException], ...] = (Exception,),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.counts = counts
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._state = BreakerState.CLOSED
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_seconds:
            return BreakerState.HALF_OPEN
        return self._state

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        state = self.state
        if state is BreakerState.OPEN or (state is BreakerState.HALF_OPEN and self._trial_running):
            raise CircuitOpen(f"circuit {self.name!r} is open")
        self._trial_running = state is BreakerState.HALF_OPEN
        try:
            result = await fn()
        except self.counts:
            self._record_failure()
            raise
        finally:
            self._trial_running = False
        self._failures = 0
        self._state = BreakerState.CLOSED
        return result

    def _record_failure(self) -> None:
        self._failures += 1
        if self._state is not BreakerState.CLOSED or self._failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
