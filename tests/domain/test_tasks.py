"""The task state machine and retry policy: pure rules, table-driven."""

from __future__ import annotations

import random

import pytest

from domain.errors import PermanentError
from domain.ids import uuid7
from domain.tasks import RetryPolicy, TaskStatus, can_transition, decide_failure


@pytest.mark.parametrize(
    ("src", "dst", "allowed"),
    [
        (TaskStatus.QUEUED, TaskStatus.RUNNING, True),
        (TaskStatus.RUNNING, TaskStatus.SUCCEEDED, True),
        (TaskStatus.RUNNING, TaskStatus.RETRYING, True),
        (TaskStatus.RETRYING, TaskStatus.RUNNING, True),
        (TaskStatus.RUNNING, TaskStatus.DEAD_LETTERED, True),
        (TaskStatus.DEAD_LETTERED, TaskStatus.QUEUED, True),
        (TaskStatus.SUCCEEDED, TaskStatus.RUNNING, False),
        (TaskStatus.CANCELLED, TaskStatus.QUEUED, False),
        (TaskStatus.QUEUED, TaskStatus.SUCCEEDED, False),
    ],
)
def test_transitions(src: TaskStatus, dst: TaskStatus, allowed: bool) -> None:
    assert can_transition(src, dst) is allowed


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=1.0, cap_seconds=8.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]


def test_jitter_stays_within_its_share() -> None:
    policy = RetryPolicy(base_seconds=10.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.delay(1, rng) for _ in range(200)]
    assert min(delays) >= 5.0 and max(delays) <= 10.0
    assert len(set(delays)) > 100


def test_transient_failure_retries_until_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    first = decide_failure(ConnectionError("down"), transient=True, attempt=1, policy=policy)
    last = decide_failure(ConnectionError("down"), transient=True, attempt=3, policy=policy)
    assert first.status is TaskStatus.RETRYING and first.retry_in == 1.0
    assert last.status is TaskStatus.DEAD_LETTERED and "exhausted" in last.reason
    assert last.error == {"type": "ConnectionError", "message": "down", "attempt": 3}


def test_permanent_failure_dead_letters_at_once() -> None:
    outcome = decide_failure(PermanentError("bad slot"), transient=False, attempt=1, policy=RetryPolicy())
    assert outcome.status is TaskStatus.DEAD_LETTERED and "permanent" in outcome.reason


def test_uuid7_is_time_ordered_and_versioned() -> None:
    ids = [uuid7() for _ in range(50)]
    assert all(u.version == 7 for u in ids)
    assert [u.int >> 80 for u in ids] == sorted(u.int >> 80 for u in ids)
