"""Processes killed with SIGKILL while reminders fire: no occurrence is lost or doubled, and no
webhook is sent twice for one event.

Real scheduler processes (`python -m workers.scheduler`), small batches so that the kill lands in
the middle of the work, a second scheduler that takes over, and a worker that delivers everything;
then real worker processes (`python -m workers --lanes reminder,notify`) killed one after another
while the occurrences are delivered, the family alerted and the people's apps pushed to.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import Services, make_settings, new_user, running_worker
from tests.e2e.procs import ROOT, process_env
from tests.notify.receiver import Receiver
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
            # Every one-off finished and every repeating reminder fired at least once: all are due at
            # the same instant, so the batch that fires the last one-off may leave a repeating one
            # for the next pass.
            return (
                await value(
                    providers,
                    "SELECT count(*) FROM reminders WHERE user_id = $1 AND status = 'finished'",
                    user,
                )
                == ONE_OFFS
                and await value(
                    providers,
                    """SELECT count(DISTINCT reminder_id) FROM reminder_occurrences
                       WHERE reminder_id = ANY($1::uuid[])""",
                    [r.id for r in repeating],
                )
                == RECURRING
            )

        await until(all_fired, timeout=30, what="every reminder fired")
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


# Worker processes killed while occurrences are delivered ------------------------------------

PEOPLE = 4
DOSES_EACH = 12
FIRING_SECONDS = 4.0
"""The doses of each person fall due one after another over this time."""
WORKERS = 4
KILLS = 3
"""Workers killed one after another while they work; the last one keeps working."""
KILL_PAUSE = 1.2
"""Between kills, so that they fall across the firing."""
WORKER_ENV = {
    "ERRAND_WEBHOOKS_ALLOW_PRIVATE": "true",  # the receivers listen on 127.0.0.1
    "ERRAND_WEBHOOKS_TIMEOUT_SECONDS": "2",
    "ERRAND_PARSER": "placeholder",  # these lanes parse nothing; a worker starts faster without the model
}
FAMILY_ONLY_LADDER = {"steps": [{"after_seconds": 1, "action": "family"}], "missed_after_seconds": 3600}


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(
        services, reminder_min_interval_seconds=1, webhooks_allow_private=True, webhooks_timeout_seconds=2.0
    )


def spawn(settings: Settings, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=process_env(settings) | WORKER_ENV,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)


class Fleet:
    """Worker processes on the reminder and notify lanes, and the consumer names of those killed.
    (Starting one takes a few seconds of CPU; a killed one is not replaced: the others and the
    test's own worker take its work over, which is what is tested.)"""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self._settings, self._logs = settings, logs
        self.alive: dict[str, subprocess.Popen[bytes]] = {}
        self.dead: list[str] = []

    def start(self) -> None:
        name = f"w{len(self.alive) + len(self.dead)}"
        lanes = ("workers", "--lanes", "reminder,notify", "--consumer", name)
        self.alive[name] = spawn(self._settings, self._logs / f"{name}.log", *lanes)

    async def started(self) -> bool:
        return all("worker started" in (self._logs / f"{name}.log").read_text() for name in self.alive)

    async def kill_one_at_work(self, providers: Providers, within: float) -> bool:
        """SIGKILL the worker running the most tasks; False if none ran one in time.

        Only a worker whose tasks are on their first or second run is killed: a task whose every
        run is killed is dead-lettered after its last attempt, rightly, and that is not this test."""

        async def at_work() -> list[str]:
            found = await rows(
                providers,
                """SELECT lease_owner FROM tasks WHERE status = 'running' AND lease_owner = ANY($1)
                   GROUP BY lease_owner HAVING max(attempts) <= 2 ORDER BY count(*) DESC""",
                list(self.alive),
            )
            return [r["lease_owner"] for r in found]

        for _ in range(int(within / 0.02)):
            busy = await at_work()
            if busy:
                kill(self.alive.pop(busy[0]))
                self.dead.append(busy[0])
                return True
            await asyncio.sleep(0.02)
        return False

    def stop(self) -> None:
        for proc in self.alive.values():
            kill(proc)


async def fast_forward_time(providers: Providers, dead: list[str], users: list[uuid.UUID]) -> None:
    """What waiting would do, without the wait: the leases of killed workers' tasks expire (a notify
    task's lease is its 60 s timeout), retries fall due (a webhook's second retry comes after
    5 minutes), and a delivery claimed by a run that died is free again (its claim outlasts the
    send timeout). Only the dead's holds are cut short: a live run is never overtaken."""
    async with providers.pool.acquire() as conn:
        await conn.execute(
            """UPDATE tasks SET lease_expires_at = now() - interval '1 hour'
               WHERE status = 'running' AND lease_owner = ANY($1::text[])""",
            dead,
        )
        await conn.execute(
            """UPDATE tasks SET not_before = now(), publish_after = now()
               WHERE status = 'retrying' AND not_before > now() AND user_id = ANY($1::uuid[])""",
            users,
        )
        await conn.execute(
            """UPDATE webhook_deliveries d SET sending_until = now() - interval '1 second'
               FROM tasks t
               WHERE t.id = d.task_id AND d.status = 'sending' AND d.sending_until > now()
                 AND t.status <> 'running' AND t.user_id = ANY($1::uuid[])""",
            users,
        )


async def person(client: httpx.AsyncClient, app: Receiver, family: Receiver, n: int) -> uuid.UUID:
    """A person with an app webhook and a daughter who agreed to escalations; the receivers learn the
    secrets."""
    auth = await new_user(client)
    me = (await client.get("/v1/me", headers=auth)).json()["id"]
    hook = await client.put("/v1/me/webhook", json={"url": app.url}, headers=auth)
    app.secrets.append(hook.json()["secret"])
    daughter = {"name": f"Anna {n}", "relation": "daughter", "webhook_url": family.url,
                "consents": {"escalations": True}}  # fmt: skip
    family.secrets.append((await client.post("/v1/contacts", json=daughter, headers=auth)).json()["secret"])
    ladder = await client.put("/v1/reminders/escalation", json=FAMILY_ONLY_LADDER, headers=auth)
    assert ladder.status_code == 200, ladder.text
    return uuid.UUID(me)


async def test_workers_killed_while_reminders_fire_lose_double_and_resend_nothing(
    client: httpx.AsyncClient, providers: Providers, tmp_path: Path
) -> None:
    """48 doses due over 4 s for 4 people; three of four worker processes killed one after another,
    each while it runs a task, as the doses are delivered (pushed to the person's app) and escalated
    (a webhook to the daughter), and the scheduler killed once mid-way. Then: one occurrence per
    dose, one delivery and one escalation per occurrence, one push and one family webhook per event,
    each delivered once by the log (the app hears of the dose and of the escalation)."""
    fleet = Fleet(providers.settings, tmp_path)
    schedulers = [spawn(providers.settings, tmp_path / "scheduler-a.log", "workers.scheduler")]
    for _ in range(WORKERS):
        fleet.start()  # they start while the people are set up
    try:
        async with Receiver(delay=0.3) as app, Receiver(delay=0.3) as family:
            users = [await person(client, app, family, n) for n in range(PEOPLE)]
            await until(fleet.started, timeout=60, what="the workers started")  # slow on a busy machine
            start = soon(1)
            step = timedelta(seconds=FIRING_SECONDS / DOSES_EACH)
            doses = [
                await add_reminder(providers, user, first_at=start + i * step, rule="FREQ=DAILY")
                for i in range(DOSES_EACH)
                for user in users
            ]

            async def settled() -> bool:
                await fast_forward_time(providers, fleet.dead, users)
                return await _all_succeeded(providers, users, 5 * len(doses))

            while len(fleet.dead) < KILLS and not await settled():
                if not await fleet.kill_one_at_work(providers, within=0.5):
                    continue  # nothing in flight at the moment
                if (
                    len(fleet.dead) == 2
                ):  # the scheduler dies too (doses may still fall due); another takes over
                    kill(schedulers[0])
                    schedulers.append(
                        spawn(providers.settings, tmp_path / "scheduler-b.log", "workers.scheduler")
                    )
                await asyncio.sleep(KILL_PAUSE)
            assert len(fleet.dead) == KILLS, f"only {len(fleet.dead)} kills landed on work in flight"

            # The last worker process and the test's own finish the work.
            async with running_worker(providers, consumer="steady"):
                await until(settled, timeout=30, what="every task of the people succeeded")
    finally:
        fleet.stop()
        for proc in schedulers:
            kill(proc)
    taken_back = await value(
        providers,
        """SELECT count(*) FROM task_events e JOIN tasks t ON t.id = e.task_id
           WHERE t.user_id = ANY($1::uuid[]) AND e.reason = 'lease expired: worker presumed lost'""",
        users,
    )
    assert taken_back > 0, "no task was taken back from a killed worker"
    await _one_occurrence_one_delivery_one_escalation_each(providers, doses)
    await _every_event_delivered_once(providers, users, app, "app_webhook_id", 2 * len(doses))
    await _every_event_delivered_once(providers, users, family, "contact_id", len(doses))


async def _all_succeeded(providers: Providers, users: list[uuid.UUID], expected: int) -> bool:
    found = await rows(
        providers, "SELECT kind, status, attempts, error FROM tasks WHERE user_id = ANY($1::uuid[])", users
    )
    dead = [dict(r) for r in found if r["status"] == "dead_lettered"]
    assert not dead, f"dead-lettered: {dead}"
    return len(found) == expected and all(r["status"] == "succeeded" for r in found)


async def _one_occurrence_one_delivery_one_escalation_each(providers: Providers, doses: list[Any]) -> None:
    for dose in doses:
        [occurrence] = await rows(
            providers, "SELECT id, due_at, fired_at FROM reminder_occurrences WHERE reminder_id = $1", dose.id
        )
        assert occurrence["due_at"] == dose.schedule.first_at and occurrence["fired_at"] is not None
        tasks = await rows(
            providers,
            "SELECT kind FROM tasks WHERE input->>'occurrence_id' = $1 ORDER BY kind",
            str(occurrence["id"]),
        )
        assert [t["kind"] for t in tasks] == ["reminder_due", "reminder_escalation"]
    kinds = await rows(
        providers,
        """SELECT user_id, kind, count(*) AS n, count(DISTINCT input->>'source_id') AS sources FROM tasks
           WHERE user_id = ANY($1::uuid[]) GROUP BY user_id, kind ORDER BY user_id, kind""",
        list({dose.user_id for dose in doses}),
    )
    # Per dose: its delivery and its escalation; pushed to the app twice (the dose, and that the
    # family was told); one webhook to the family.
    per_dose = {"notify_app": 2, "notify_contact": 1, "reminder_due": 1, "reminder_escalation": 1}
    expected = [(kind, n * DOSES_EACH) for kind, n in per_dose.items()] * PEOPLE
    assert [(k["kind"], k["n"]) for k in kinds] == expected
    assert all(k["sources"] == k["n"] for k in kinds if k["kind"].startswith("notify"))


async def _every_event_delivered_once(
    providers: Providers, users: list[uuid.UUID], receiver: Receiver, endpoint: str, events: int
) -> None:
    """One delivery per event, succeeded, with exactly one successful attempt in the log; the
    receiver verified every request and acted on each webhook-id once. A webhook-id it saw more than
    once was re-sent only after a run died between the send and the log (an attempt the log never
    recorded), with the same body: the one repeat no sender can rule out, dropped by the receiver."""
    logged = await rows(
        providers,
        f"""SELECT d.id, d.status, d.attempts, d.body,
                   (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) AS logged,
                   (SELECT count(*) FROM webhook_attempts a
                    WHERE a.delivery_id = d.id AND a.result = 'delivered') AS delivered
            FROM webhook_deliveries d JOIN tasks t ON t.id = d.task_id
            WHERE t.user_id = ANY($1::uuid[]) AND d.{endpoint} IS NOT NULL""",
        users,
    )
    assert len(logged) == events
    assert all(d["status"] == "succeeded" and d["delivered"] == 1 for d in logged)
    assert all(r.verified_by for r in receiver.requests), "a request failed verification"
    by_id = {str(d["id"]): d for d in logged}
    assert {r.webhook_id for r in receiver.delivered()} == set(by_id)
    for webhook_id, delivery in by_id.items():
        seen = [r for r in receiver.requests if r.webhook_id == webhook_id]
        assert {r.body.decode() for r in seen} == {delivery["body"]}
        assert len(seen) - 1 <= delivery["attempts"] - delivery["logged"], (webhook_id, len(seen), delivery)
