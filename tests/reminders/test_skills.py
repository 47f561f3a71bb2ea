"""The reminder skills on a real worker: set_reminder is idempotent per task, "I took it" acknowledges
the dose just delivered, "did I take my heart pill today?" answers from the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.ids import uuid7
from domain.ports import Doorbell, NewTask
from domain.reminder_services import took_today
from domain.reminders import FiringRules, plan_firing
from domain.skills import SkillContext
from domain.skills.reminders import set_reminder
from domain.tasks import Task, TaskStatus
from providers.postgres.reminder_schedule import PostgresReminderScheduler
from providers.postgres.reminders import reminder_repository
from providers.wiring import Providers
from tests.conftest import running_worker
from tests.helpers import wait_for_status
from tests.reminders.conftest import add_reminder, make_user, rows, value

STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def _task(
    providers: Providers, user: uuid.UUID, kind: str, slots: dict[str, Any], text: str = ""
) -> Task:
    skill = providers.registry.get(kind)
    assert skill is not None
    new = NewTask(
        id=uuid7(),
        user_id=user,
        conversation_id=uuid7(),
        kind=kind,
        lane=skill.lane,
        intent="set_reminder",
        slots=slots,
        input={"text": text, "timezone": "Europe/Stockholm"},
        parser="test",
        max_attempts=skill.retry.max_attempts,
        idempotency_key=None,
        request_hash=None,
    )
    async with providers.uow() as uow:
        task = await uow.tasks.insert(new)
    assert task is not None
    assert await providers.streams.publish([Doorbell(task.id, task.lane, task.kind)])
    return task


def _ctx(providers: Providers) -> SkillContext:
    return SkillContext(worker="test", uow=providers.uow, clock=providers.clock, ports=providers.skill_ports)


async def test_set_reminder_is_idempotent_per_task_and_says_no_plainly(providers: Providers) -> None:
    user = await make_user(providers, timezone="Europe/Stockholm")
    start = (datetime.now(STOCKHOLM) + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    slots = {"what": "take my heart pills", "medicine": "heart pills", "dose": "2 tablets",
             "start": start.isoformat(), "recurrence": "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"}  # fmt: skip
    task = await _task(providers, user, "set_reminder", slots)
    first = await set_reminder(task, _ctx(providers))
    second = await set_reminder(task, _ctx(providers))  # a re-run after a crash
    assert first == second
    assert first.reply == "I'll remind you to take your heart pills (2 tablets) every day at 08:00."
    assert await value(providers, "SELECT count(*) FROM reminders WHERE user_id = $1", user) == 1
    bad = await _task(providers, user, "set_reminder", slots | {"recurrence": "FREQ=DAILY;BYSETPOS=3"})
    refused = await set_reminder(bad, _ctx(providers))
    assert refused.reply == "Sorry, I couldn't understand when to remind you. Could you say it another way?"
    past = await _task(
        providers, user, "set_reminder", {"what": "call mum", "start": "2020-01-01T09:00:00+01:00"}
    )
    assert (await set_reminder(past, _ctx(providers))).reply == (
        "That time has already passed, so I haven't set a reminder."
    )
    assert await value(providers, "SELECT count(*) FROM reminders WHERE user_id = $1", user) == 1


async def test_i_took_it_acknowledges_the_dose_and_did_i_take_it_answers_yes(providers: Providers) -> None:
    user = await make_user(providers, timezone="Europe/Stockholm")
    reminder = await add_reminder(
        providers, user, first_at=datetime.now(UTC) - timedelta(seconds=1), rule="FREQ=DAILY",
        timezone="Europe/Stockholm",
    )  # fmt: skip
    fired = await PostgresReminderScheduler(providers.pool).fire_due(
        500, lambda due, now: plan_firing(due, now, FiringRules(timedelta(minutes=30)))
    )
    assert fired.fired == 1
    async with running_worker(providers):
        ack = await _task(providers, user, "reminder_ack", {}, text="I took it")
        done = await wait_for_status(providers, ack.id, {TaskStatus.SUCCEEDED})
        assert done.reply == "Thank you, I've noted that you took your heart pills."
        ask = await _task(providers, user, "reminder_took_today", {}, text="did I take my heart pill today?")
        answer = await wait_for_status(providers, ask.id, {TaskStatus.SUCCEEDED})
    assert answer.reply is not None and answer.reply.startswith("Yes, you took your heart pills today at ")
    [occurrence] = await rows(
        providers, "SELECT * FROM reminder_occurrences WHERE reminder_id = $1", reminder.id
    )
    assert occurrence["status"] == "taken" and occurrence["acked_at"] is not None
    states = await rows(
        providers, "SELECT state FROM reminder_escalations WHERE occurrence_id = $1", occurrence["id"]
    )
    assert {s["state"] for s in states} == {"cancelled"}


async def test_did_i_take_it_today_reads_the_local_day_of_the_ledger(providers: Providers) -> None:
    user = await make_user(providers, timezone="Europe/Stockholm")
    day = datetime(2030, 1, 15, tzinfo=STOCKHOLM)
    reminder = await add_reminder(
        providers, user, first_at=day - timedelta(days=3) + timedelta(hours=8),
        rule="FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0", timezone="Europe/Stockholm",
        next_due_at=day + timedelta(hours=20),
    )  # fmt: skip
    morning = day + timedelta(hours=8)
    await value(
        providers,
        """INSERT INTO reminder_occurrences (id, reminder_id, user_id, due_at, status, fired_at, acked_at)
           VALUES ($1, $2, $3, $4, 'taken', $4, $5) RETURNING id""",
        uuid.uuid4(), reminder.id, user, morning, morning + timedelta(minutes=5),
    )  # fmt: skip
    async with providers.uow() as uow:
        repo = reminder_repository(uow)
        noon = await took_today(user, "heart pill", day + timedelta(hours=12), reminders=repo)
        tomorrow = await took_today(user, "heart pill", day + timedelta(days=1, hours=7), reminders=repo)
        unknown = await took_today(user, "aspirin", day + timedelta(hours=12), reminders=repo)
    assert noon == (
        "Yes, you took your heart pills today at 08:05. You don't need to take it again now. "
        "The next one is at 20:00."
    )
    assert tomorrow == "No dose of your heart pills was due today."
    assert unknown == "I don't have a reminder for aspirin, so I can't tell."
