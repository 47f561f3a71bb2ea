"""A skill that does nothing and succeeds: the pipeline's canary, and the benchmark's workload."""

from __future__ import annotations

from domain.skills import Skill, SkillContext
from domain.tasks import Lane, Outcome, Task


async def noop(task: Task, ctx: SkillContext) -> Outcome:
    return Outcome.succeeded()


NOOP = Skill(name="noop", lane=Lane.ANSWER, handler=noop, timeout_seconds=5.0)


SKILLS = [NOOP]
ROUTES: dict[str, str] = {}
