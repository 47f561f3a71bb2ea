"""Skills for tests, loaded by workers through ERRAND_EXTRA_SKILLS=tests.skills.

Their effects are rows in tables they create, keyed by task id, as real skills' effects are:
`probe_runs` counts executions, `probe_effects` holds the one effect per task.
"""

from __future__ import annotations

import asyncio
from typing import Any

from domain.errors import PermanentError
from domain.skills import Skill, SkillContext, SkillRegistry
from domain.tasks import Lane, Outcome, RetryPolicy, Task

SCHEMA = """
CREATE TABLE IF NOT EXISTS probe_runs (id bigserial PRIMARY KEY, task_id uuid NOT NULL, worker text NOT NULL,
                                       at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS probe_effects (task_id uuid PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS probe_switch (name text PRIMARY KEY, failing boolean NOT NULL);
"""


async def _conn_execute(ctx: SkillContext, sql: str, *args: Any) -> Any:
    async with ctx.uow() as uow:
        return await uow.conn.execute(sql, *args)  # type: ignore[attr-defined]


async def probe(task: Task, ctx: SkillContext) -> Outcome:
    """Record the run, wait `sleep` seconds, then do the effect once (keyed by the task id)."""
    await _conn_execute(ctx, "INSERT INTO probe_runs (task_id, worker) VALUES ($1, $2)", task.id, ctx.worker)
    await asyncio.sleep(float(task.input.get("sleep", 0)))
    await _conn_execute(
        ctx, "INSERT INTO probe_effects (task_id) VALUES ($1) ON CONFLICT DO NOTHING", task.id
    )
    return Outcome.succeeded(reply="done", result={"worker": ctx.worker})


async def flaky(task: Task, ctx: SkillContext) -> Outcome:
    """Fails while the switch named in the task's input is on."""
    await _conn_execute(ctx, "INSERT INTO probe_runs (task_id, worker) VALUES ($1, $2)", task.id, ctx.worker)
    async with ctx.uow() as uow:
        failing = await uow.conn.fetchval(  # type: ignore[attr-defined]
            "SELECT failing FROM probe_switch WHERE name = $1", task.input["switch"]
        )
    if failing:
        raise ConnectionError("the provider is down")
    await _conn_execute(
        ctx, "INSERT INTO probe_effects (task_id) VALUES ($1) ON CONFLICT DO NOTHING", task.id
    )
    return Outcome.succeeded(reply="fixed")


async def refuse(task: Task, ctx: SkillContext) -> Outcome:
    raise PermanentError("the venue does not exist")


def register(registry: SkillRegistry) -> None:
    registry.add(Skill("probe", Lane.BOOKING, probe, RetryPolicy(max_attempts=5, base_seconds=0.1), 4.0))
    registry.add(
        Skill("flaky", Lane.NOTIFY, flaky, RetryPolicy(max_attempts=4, base_seconds=0.2, jitter=0.0), 5.0)
    )
    registry.add(Skill("refuse", Lane.BOOKING, refuse, RetryPolicy(max_attempts=5), 5.0))
