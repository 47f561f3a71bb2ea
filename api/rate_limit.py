"""Per-user request budgets: a token bucket per bearer token (one per user), in this API process.

Why in process and not in Redis: it costs a dict lookup instead of a round trip on every request,
and its job is to stop a runaway client or a looping app, not to meter to the request. With N API
replicas a user can get up to N times the budget; divide the setting by N if that matters.
"""

from __future__ import annotations

import time

from domain.errors import RateLimited


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, max_users: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max = max_users
        self._buckets: dict[str, tuple[float, float]] = {}  # credential -> (tokens, at)

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    def take(self, key: str) -> None:
        """Spend one request of the key's budget, or raise RateLimited saying when to come back."""
        if self._rate <= 0:
            return
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise RateLimited(
                "too many requests; slow down and try again shortly", (1.0 - tokens) / self._rate
            )
        if len(self._buckets) >= self._max and key not in self._buckets:
            self._buckets.clear()  # bounded memory; a full bucket for everyone is the safe side
        self._buckets[key] = (tokens - 1.0, now)
