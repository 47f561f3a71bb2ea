"""The scheduler fires reminders once, escalates unacknowledged doses step by step, and stops for an ack.

Real PostgreSQL, Redis, worker and scheduler, with short real intervals (a first time 1 s ahead,
ladders in seconds)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.reminders import FamilyAlerts, FiringRules, plan_firing
from domain.tasks import TaskStatus
from providers.postgres.reminder_schedule import PostgresReminderScheduler
from providers.postgres.reminders import reminder_repository
from providers.reminders import PostgresFamilyAlerts
from providers.settings import Settings
from providers.wiring import Providers, build_providers
from tests.conftest import running_worker
from tests.reminders.conftest import (
    add_reminder,
    make_user,
    reminder_scheduler,
    rows,
    set_ladder,
    soon,
    until,
    value,
)

_TASKS_OF = (
    "SELECT kind, reply, status, input FROM tasks WHERE user_id = $1 AND kind LIKE 'reminder_%' ORDER BY id"
)


async def _occurrences(providers: Providers, reminder_id: object) -> list[dict[str, object]]:
    found = await rows(
        providers, "SELECT * FROM reminder_occurrences WHERE reminder_id = $1 ORDER BY due_at", reminder_id
    )
    return [dict(r) for r in found]


async def test_a_missed_dose_fires_once_reprompts_once_and_alerts_the_family_once(
    providers: Providers,
) -> None:
    # The family is reached through the recording FamilyAlerts, whatever the wiring puts before it.
    recording = {FamilyAlerts: PostgresFamilyAlerts(providers.pool)}
    providers = replace(providers, skill_ports=providers.skill_ports | recording)
    user = await make_user(providers, name="Greta")
    await set_ladder(providers, user, reprompt=1, family=2, missed_after=3)
    reminder = await add_reminder(providers, user, first_at=soon(1), rule="FREQ=DAILY")
    async with running_worker(providers), reminder_scheduler(providers):

        async def missed() -> bool:
            occ = await _occurrences(providers, reminder.id)
            return bool(occ) and occ[0]["status"] == "missed"

        await until(missed, what="the dose recorded missed")
        await until(
            lambda: _all_succeeded(providers, user, 3), what="delivery, re-prompt and family alert done"
        )
        await asyncio.sleep(1.5)  # the scheduler keeps passing: nothing more may happen
    occurrences = await _occurrences(providers, reminder.id)
    assert len(occurrences) == 1 and occurrences[0]["reason"] == "no_ack"
    tasks = await rows(providers, _TASKS_OF, user)
    assert [(t["kind"], t["input"]["step"]) for t in tasks] == [
        ("reminder_due", "due"),
        ("reminder_due", "reprompt"),
        ("reminder_escalation", "family"),
    ]
    assert tasks[0]["reply"] == "Time to take your heart pills (2 tablets)."
    assert tasks[1]["reply"].startswith("Just checking: did you take your heart pills (2 tablets)?")
    assert (
        tasks[2]["reply"]
        == "I didn't hear back from you about your heart pills, so I've let your family know."
    )
    alerts = await rows(providers, "SELECT * FROM reminder_family_alerts WHERE user_id = $1", user)
    assert len(alerts) == 1 and alerts[0]["step"] == 2
    assert alerts[0]["text"].startswith("Greta has not confirmed taking heart pills (2 tablets), due at ")
    states = await rows(
        providers,
        "SELECT step, state FROM reminder_escalations WHERE occurrence_id = $1 ORDER BY step",
        occurrences[0]["id"],
    )
    assert [(s["step"], s["state"]) for s in states] == [(1, "done"), (2, "done")]


async def _all_succeeded(providers: Providers, user: object, expected: int) -> bool:
    tasks = await rows(providers, _TASKS_OF, user)
    return len(tasks) == expected and all(t["status"] == TaskStatus.SUCCEEDED for t in tasks)


async def test_an_ack_stops_the_escalation(providers: Providers) -> None:
    user = await make_user(providers)
    await set_ladder(providers, user, reprompt=3, family=4, missed_after=6)
    reminder = await add_reminder(providers, user, first_at=soon(1), rule="FREQ=DAILY")
    async with running_worker(providers), reminder_scheduler(providers):
        await until(lambda: _fired(providers, reminder.id), what="the dose fired")
        occurrence = (await _occurrences(providers, reminder.id))[0]
        async with providers.uow() as uow:
            acked = await reminder_repository(uow).ack(user, reminder.id, occurrence["id"], datetime.now(UTC))
        assert acked is not None and acked.status == "taken"
        await asyncio.sleep(4.5)  # past both steps
    tasks = await rows(providers, _TASKS_OF, user)
    assert [t["input"]["step"] for t in tasks] == ["due"]
    states = await rows(
        providers, "SELECT state FROM reminder_escalations WHERE occurrence_id = $1", occurrence["id"]
    )
    assert {s["state"] for s in states} == {"cancelled"}
    assert (await _occurrences(providers, reminder.id))[0]["status"] == "taken"


async def _fired(providers: Providers, reminder_id: object) -> bool:
    return bool(
        await value(
            providers, "SELECT count(*) FROM reminder_occurrences WHERE reminder_id = $1", reminder_id
        )
    )


async def test_two_schedulers_at_once_fire_every_occurrence_exactly_once(
    providers: Providers, settings: Settings
) -> None:
    """40 reminders due every 2 s, two schedulers with their own pools racing for ~7 s: every due
    instant has one occurrence, every fired occurrence one delivery task, and none is skipped."""
    user = await make_user(providers)
    first = soon(1)
    reminders = [
        await add_reminder(providers, user, first_at=first, rule="FREQ=SECONDLY;INTERVAL=2")
        for _ in range(40)
    ]
    other = await build_providers(settings)
    try:
        async with reminder_scheduler(providers), reminder_scheduler(other):
            await asyncio.sleep(7)
    finally:
        await other.aclose()
    for reminder in reminders:
        occurrences = await _occurrences(providers, reminder.id)
        last = occurrences[-1]["due_at"]
        assert [o["due_at"] for o in occurrences] == reminder.schedule.between(
            first - timedelta(seconds=1), last + timedelta(seconds=1)
        )
        assert len(occurrences) >= 3
    fired = await value(
        providers,
        "SELECT count(*) FROM reminder_occurrences WHERE user_id = $1 AND fired_at IS NOT NULL",
        user,
    )
    tasks = await value(
        providers,
        """SELECT count(*) FROM tasks t JOIN reminder_occurrences o ON o.task_id = t.id
           WHERE o.user_id = $1 AND t.input->>'occurrence_id' = o.id::text""",
        user,
    )
    all_tasks = await value(providers, "SELECT count(*) FROM tasks WHERE user_id = $1", user)
    assert fired == tasks == all_tasks


async def test_after_downtime_only_the_latest_occurrence_within_the_catch_up_window_fires(
    providers: Providers,
) -> None:
    """The scheduler was away for two days: older doses are recorded missed (not delivered), the one
    due 10 minutes ago fires, and the next one is tomorrow's."""
    user = await make_user(providers)
    now = datetime.now(UTC).replace(microsecond=0)
    late = await add_reminder(
        providers, user, first_at=now - timedelta(days=2, minutes=10), rule="FREQ=DAILY"
    )
    stale = await add_reminder(providers, user, first_at=now - timedelta(days=1, hours=2), rule="FREQ=DAILY")
    store = PostgresReminderScheduler(providers.pool)
    rules = FiringRules(catch_up=timedelta(minutes=30))
    fired = await store.fire_due(500, lambda due, at: plan_firing(due, at, rules))
    assert (fired.fired, fired.missed) == (1, 4)
    late_occ = await _occurrences(providers, late.id)
    assert [(o["status"], o["reason"]) for o in late_occ] == [
        ("missed", "not_delivered"),
        ("missed", "not_delivered"),
        ("pending", None),
    ]
    stale_occ = await _occurrences(providers, stale.id)
    assert [(o["status"], o["reason"]) for o in stale_occ] == [("missed", "not_delivered")] * 2
    next_due = await value(providers, "SELECT next_due_at FROM reminders WHERE id = $1", late.id)
    assert next_due == late.schedule.first_at + timedelta(days=3)
    assert await value(providers, "SELECT count(*) FROM tasks WHERE user_id = $1", user) == 1
    again = await store.fire_due(500, lambda due, at: plan_firing(due, at, rules))
    assert again.claimed == 0


async def test_a_one_off_reminder_fires_once_and_finishes(providers: Providers) -> None:
    user = await make_user(providers)
    reminder = await add_reminder(
        providers, user, first_at=soon(0.5), what="call mum", medicine=None, dose=None
    )
    async with running_worker(providers), reminder_scheduler(providers):
        await until(lambda: _all_succeeded(providers, user, 1), what="the reminder delivered")
        await asyncio.sleep(0.5)
    task = (await rows(providers, _TASKS_OF, user))[0]
    assert task["reply"] == "Time to call mum."
    status = await value(providers, "SELECT status FROM reminders WHERE id = $1", reminder.id)
    assert status == "finished"
    assert not await value(
        providers,
        """SELECT count(*) FROM reminder_escalations e JOIN reminder_occurrences o ON o.id = e.occurrence_id
           WHERE o.reminder_id = $1""",
        reminder.id,
    )


async def test_a_rule_that_ends_fires_its_times_and_then_finishes(providers: Providers) -> None:
    """ "tomorrow morning and evening" is a rule with COUNT: after its last time the reminder is
    finished, not left waiting for a time that never comes. Both times are past here: the scheduler
    was away, so the earlier is recorded missed and the later one fires."""
    user = await make_user(providers)
    now = datetime.now(UTC).replace(microsecond=0)
    reminder = await add_reminder(
        providers, user, first_at=now - timedelta(minutes=15), rule="FREQ=MINUTELY;INTERVAL=10;COUNT=2"
    )
    store = PostgresReminderScheduler(providers.pool)
    rules = FiringRules(catch_up=timedelta(minutes=30))
    fired = await store.fire_due(500, lambda due, at: plan_firing(due, at, rules))
    assert (fired.fired, fired.missed) == (1, 1)
    occurrences = await _occurrences(providers, reminder.id)
    assert [o["due_at"] for o in occurrences] == [now - timedelta(minutes=15), now - timedelta(minutes=5)]
    state = await rows(providers, "SELECT status, next_due_at FROM reminders WHERE id = $1", reminder.id)
    assert (state[0]["status"], state[0]["next_due_at"]) == ("finished", None)
    again = await store.fire_due(500, lambda due, at: plan_firing(due, at, rules))
    assert again.claimed == 0
