"""A scheduler process killed with SIGKILL while it fires reminders: nothing is lost or doubled.

Real scheduler processes (`python -m workers.scheduler`), small batches so that the kill lands in
the middle of the work, a second scheduler that takes over, and a worker that delivers everything.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import running_worker
from tests.e2e.procs import ROOT, process_env
from tests.reminders.conftest import add_reminder, make_user, rows, soon, until, value

ONE_OFFS = 600
RECURRING = 20


@contextmanager
def scheduler(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A scheduler process claiming 25 reminders per transaction (many transactions to interrupt)."""
    env = process_env(settings) | {"ERRAND_REMINDER_BATCH": "25"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workers.scheduler"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)


async def test_a_scheduler_killed_while_firing_loses_and_doubles_nothing(
    providers: Providers, tmp_path: Path
) -> None:
    user = await make_user(providers)
    due = soon(2)
    once = [
        await add_reminder(providers, user, first_at=due, what="call mum", medicine=None, dose=None)
        for _ in range(ONE_OFFS)
    ]
    repeating = [
        await add_reminder(providers, user, first_at=due, rule="FREQ=SECONDLY;INTERVAL=2")
        for _ in range(RECURRING)
    ]
    s = providers.settings

    async def firing() -> bool:
        return (
            await value(providers, "SELECT count(*) FROM reminder_occurrences WHERE user_id = $1", user) > 0
        )

    with scheduler(s, tmp_path / "doomed.log") as doomed:
        await until(firing, what="the first scheduler firing")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    interrupted = await value(providers, "SELECT count(*) FROM reminder_occurrences WHERE user_id = $1", user)
    with scheduler(s, tmp_path / "heir.log"), scheduler(s, tmp_path / "twin.log"):

        async def all_fired() -> bool:
            return (
                await value(
                    providers,
                    "SELECT count(*) FROM reminders WHERE user_id = $1 AND status = 'finished'",
                    user,
                )
                == ONE_OFFS
            )

        await until(all_fired, timeout=30, what="every one-off fired")
        await value(  # waits for a scheduler holding the rows; then nothing fires any more
            providers, "UPDATE reminders SET status = 'paused' WHERE user_id = $1 AND status = 'active'", user
        )
        async with running_worker(providers):

            async def delivered() -> bool:
                return not await value(
                    providers, "SELECT count(*) FROM tasks WHERE user_id = $1 AND status <> 'succeeded'", user
                )

            await until(delivered, timeout=30, what="every occurrence delivered")
    # The kill usually lands mid-work (25 reminders a transaction); on a loaded machine it may land
    # after the last batch, and the checks below still prove a restart loses and doubles nothing.
    assert interrupted > 0
    for reminder in once:
        occurrences = await rows(
            providers, "SELECT status, fired_at FROM reminder_occurrences WHERE reminder_id = $1", reminder.id
        )
        assert len(occurrences) == 1 and occurrences[0]["fired_at"] is not None
    for reminder in repeating:
        found = [
            r["due_at"]
            for r in await rows(
                providers,
                "SELECT due_at FROM reminder_occurrences WHERE reminder_id = $1 ORDER BY due_at",
                reminder.id,
            )
        ]
        assert found == reminder.schedule.between(
            due - timedelta(seconds=1), found[-1] + timedelta(seconds=1)
        )
    fired = await value(
        providers,
        "SELECT count(*) FROM reminder_occurrences WHERE user_id = $1 AND fired_at IS NOT NULL",
        user,
    )
    per_occurrence = await value(
        providers,
        """SELECT count(*) FROM tasks t JOIN reminder_occurrences o ON o.task_id = t.id
           WHERE o.user_id = $1 AND t.status = 'succeeded'""",
        user,
    )
    tasks = await value(providers, "SELECT count(*) FROM tasks WHERE user_id = $1", user)
    assert fired == per_occurrence == tasks
