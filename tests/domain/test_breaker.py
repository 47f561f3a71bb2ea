"""The circuit breaker counts failures of asyncio coroutines, opens, and recovers through half-open."""

from __future__ import annotations

import pytest

from providers.breaker import BreakerState, CircuitBreaker, CircuitOpen


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def failing() -> None:
    raise ConnectionError("down")


async def working() -> str:
    return "ok"


async def test_opens_after_consecutive_async_failures_then_recovers() -> None:
    clock = FakeTime()
    breaker = CircuitBreaker("llm", failure_threshold=3, reset_seconds=10, clock=clock)
    for _ in range(3):
        with pytest.raises(ConnectionError):
            await breaker.call(failing)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        await breaker.call(working)
    clock.now = 11
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(ConnectionError):
        await breaker.call(failing)  # the trial fails: open again
    assert breaker.state is BreakerState.OPEN
    clock.now = 22
    assert await breaker.call(working) == "ok"
    assert breaker.state is BreakerState.CLOSED


async def test_success_resets_the_count() -> None:
    breaker = CircuitBreaker("x", failure_threshold=2)
    with pytest.raises(ConnectionError):
        await breaker.call(failing)
    await breaker.call(working)
    with pytest.raises(ConnectionError):
        await breaker.call(failing)
    assert breaker.state is BreakerState.CLOSED
