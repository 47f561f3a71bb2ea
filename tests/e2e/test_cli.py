"""The operator CLI: create a user, list the DLQ, replay from it, as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys

from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.conftest import running_worker
from tests.e2e.procs import ROOT, process_env
from tests.helpers import enqueue, ensure_probe_tables, make_user, wait_for_status


def cli(providers: Providers, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args],
        cwd=ROOT,
        env=process_env(providers.settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cli_lists_and_replays_dead_letters(providers: Providers) -> None:
    created = cli(providers, "create-user", "--timezone", "Europe/Stockholm")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["token"].startswith("ert_")

    await ensure_probe_tables(providers)
    async with providers.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO probe_switch VALUES ('cli', true) ON CONFLICT (name) DO UPDATE SET failing = true"
        )
    task_id = await enqueue(providers, await make_user(providers), "flaky", {"switch": "cli"})
    async with running_worker(providers):
        await wait_for_status(providers, task_id, {TaskStatus.RETRYING, TaskStatus.DEAD_LETTERED})
    async with providers.pool.acquire() as conn:  # fast-forward: dead-letter it as the last attempt would
        await conn.execute("UPDATE tasks SET status = 'dead_lettered' WHERE id = $1", task_id)
        await conn.execute("UPDATE probe_switch SET failing = false WHERE name = 'cli'")

    listed = cli(providers, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    assert str(task_id) in [t["id"] for t in json.loads(listed.stdout)]  # the list is global
    replayed = cli(providers, "dlq", "replay", str(task_id))
    assert replayed.returncode == 0 and json.loads(replayed.stdout)["status"] == "queued"
    again = cli(providers, "dlq", "replay", str(task_id))
    assert again.returncode == 1 and "no dead-lettered task" in again.stderr
    async with running_worker(providers):
        done = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED})
    assert done.reply == "fixed"
