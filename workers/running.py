"""Running one task: the handler under its timeout, exceptions turned into outcomes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from domain.errors import DomainError, PermanentError
from domain.skills import Skill, SkillContext
from domain.skills.speech import finish_reply, persons_language
from domain.speech import localize
from domain.tasks import Outcome, RetryPolicy, Task, decide_failure

log = logging.getLogger(__name__)


async def run_task(task: Task, skill: Skill | None, ctx: SkillContext, max_attempts: int) -> Outcome:
    """Never raises (but for cancellation): a failure becomes a retry or a dead letter."""
    if skill is None:
        error = PermanentError(f"no skill named {task.kind!r} runs on this worker")
        return decide_failure(error, transient=False, attempt=task.attempts, policy=RetryPolicy())
    policy = (
        skill.retry if skill.retry.max_attempts == max_attempts else _with_attempts(skill.retry, max_attempts)
    )
    try:
        async with asyncio.timeout(skill.timeout_seconds):
            outcome = await skill.handler(task, ctx)
    except PermanentError as exc:
        return _told(task, exc, decide_failure(exc, transient=False, attempt=task.attempts, policy=policy))
    except Exception as exc:  # any other failure of a skill is worth a retry
        if not isinstance(exc, TimeoutError | DomainError):
            log.warning("skill raised", exc_info=True, extra={"kind": task.kind, "attempt": task.attempts})
        return _told(task, exc, decide_failure(exc, transient=True, attempt=task.attempts, policy=policy))
    # The reply in the person's language, and spoken when they asked (never fails the task).
    return await finish_reply(task, outcome, ctx) if outcome.reply else outcome


def _told(task: Task, exc: Exception, outcome: Outcome) -> Outcome:
    """A domain error may carry what to tell the person ("I couldn't confirm yet; I'll try again"),
    in their language."""
    reply = getattr(exc, "reply", None)
    if not (isinstance(reply, str) and reply):
        return outcome
    return replace(outcome, reply=localize(reply, persons_language(task))[0])


def _with_attempts(policy: RetryPolicy, max_attempts: int) -> RetryPolicy:
    """The task row's max_attempts wins: it was fixed when the task was accepted."""
    return replace(policy, max_attempts=max_attempts)  # keeps subclasses (a retry schedule)
