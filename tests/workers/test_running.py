"""What a failing skill tells the person: the reply its error carries, in the person's language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.bookings import ProviderUnavailable
from domain.skills import Skill, SkillContext
from domain.tasks import Lane, Task, TaskStatus
from workers.running import run_task

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _task(language: str | None) -> Task:
    return Task(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        kind="book",
        lane=Lane.BOOKING,
        intent="book_restaurant",
        status=TaskStatus.RUNNING,
        attempts=1,
        created_at=NOW,
        updated_at=NOW,
        input={"text": "book a table"} | ({"language": language} if language else {}),
    )


async def _unavailable(task: Task, ctx: SkillContext) -> None:
    raise ProviderUnavailable("the venue's calendar did not answer")


@pytest.mark.parametrize(
    ("language", "reply"),
    [
        (None, "I couldn't confirm the booking yet; I'll try again and tell you."),
        ("sv", "Jag kunde inte bekräfta bokningen än; jag försöker igen och hör av mig."),
    ],
)
async def test_a_retried_failure_tells_the_person_in_their_language(language: str | None, reply: str) -> None:
    skill = Skill("book", Lane.BOOKING, _unavailable)  # type: ignore[arg-type]
    outcome = await run_task(_task(language), skill, SkillContext("w", uow=None), max_attempts=5)  # type: ignore[arg-type]
    assert outcome.status is TaskStatus.RETRYING and outcome.reply == reply
