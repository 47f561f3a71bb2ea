"""The reminders API over the real app: set by message, list, pause, resume, delete, ack, adherence,
the ladder, and nothing of another person's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from domain.reminders import FiringRules, plan_firing
from domain.tasks import TaskStatus
from providers.postgres.reminder_schedule import PostgresReminderScheduler
from providers.wiring import Providers
from tests.conftest import new_user, running_worker
from tests.helpers import wait_for_status
from tests.reminders.conftest import add_reminder, reminder_scheduler, rows, soon, until, value


async def _me(client: httpx.AsyncClient, auth: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])


async def _count(providers: Providers, reminder_id: object) -> int:
    return int(
        await value(
            providers, "SELECT count(*) FROM reminder_occurrences WHERE reminder_id = $1", reminder_id
        )
    )


async def test_a_reminder_set_by_message_is_confirmed_stored_and_listed(
    client: httpx.AsyncClient, providers: Providers
) -> None:
    auth = await new_user(client, timezone="Europe/Stockholm")
    sent = await client.post(
        "/v1/messages", json={"text": "remind me to take my heart pills every day at 8"}, headers=auth
    )
    assert sent.json()["status"] == "awaiting_confirmation", sent.text
    task_id = uuid.UUID(sent.json()["task_id"])
    assert (await client.post(f"/v1/tasks/{task_id}/confirm", headers=auth)).status_code == 200
    async with running_worker(providers):
        task = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED})
        assert task.reply == "I'll remind you to take your heart pills every day at 08:00."
        listed = (await client.get("/v1/reminders", headers=auth)).json()["items"]
        assert len(listed) == 1
        reminder = listed[0]
        assert reminder["description"] == "every day at 08:00" and reminder["medicine"] == "heart pills"
        assert reminder["recurrence"] == "FREQ=DAILY;BYHOUR=8;BYMINUTE=0" and reminder["escalate"]
        due = datetime.fromisoformat(reminder["next_due_at"]).astimezone(ZoneInfo("Europe/Stockholm"))
        assert due.strftime("%H:%M") == "08:00" and due > datetime.now(UTC)
        asked = await client.post("/v1/messages", json={"text": "what reminders do I have"}, headers=auth)
        answer = await wait_for_status(providers, uuid.UUID(asked.json()["task_id"]), {TaskStatus.SUCCEEDED})
    assert answer.reply == "You have one reminder: take your heart pills every day at 08:00."
    assert (await client.get(f"/v1/reminders/{reminder['id']}", headers=auth)).json() == reminder


async def test_a_swedish_speaker_sets_lists_and_hears_reminders_in_swedish(
    client: httpx.AsyncClient, providers: Providers
) -> None:
    auth = await new_user(client, timezone="Europe/Stockholm")
    assert (await client.patch("/v1/me", json={"language": "sv"}, headers=auth)).status_code == 200
    sent = await client.post(
        "/v1/messages", json={"text": "remind me to take my heart pills every day at 8"}, headers=auth
    )
    assert sent.json()["status"] == "awaiting_confirmation", sent.text
    task_id = uuid.UUID(sent.json()["task_id"])
    read_back = (await client.get(f"/v1/tasks/{task_id}", headers=auth)).json()["reply"]
    assert read_back == "Ska jag påminna dig om att take your heart pills varje dag kl. 08:00?"
    assert (await client.post(f"/v1/tasks/{task_id}/confirm", headers=auth)).status_code == 200
    async with running_worker(providers):
        task = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED})
        assert task.reply == "Jag påminner dig om att take your heart pills varje dag kl. 08:00."
        [listed] = (await client.get("/v1/reminders", headers=auth)).json()["items"]
        assert listed["description"] == "varje dag kl. 08:00"
        asked = await client.post("/v1/messages", json={"text": "what reminders do I have"}, headers=auth)
        answer = await wait_for_status(providers, uuid.UUID(asked.json()["task_id"]), {TaskStatus.SUCCEEDED})
    assert answer.reply == "Du har en påminnelse: take your heart pills varje dag kl. 08:00."


async def test_pause_resume_and_delete(client: httpx.AsyncClient, providers: Providers) -> None:
    auth = await new_user(client)
    reminder = await add_reminder(
        providers, await _me(client, auth), first_at=soon(1), rule="FREQ=SECONDLY;INTERVAL=2"
    )
    path = f"/v1/reminders/{reminder.id}"
    async with reminder_scheduler(providers):
        await until(lambda: _fired(providers, reminder.id), what="the first occurrence")
        paused = (await client.post(f"{path}/pause", headers=auth)).json()
        assert paused["status"] == "paused" and paused["next_due_at"] is None
        assert (await client.post(f"{path}/pause", headers=auth)).json()["status"] == "paused"
        paused_at, before = datetime.now(UTC), await _count(providers, reminder.id)
        await asyncio.sleep(2.5)
        assert await _count(providers, reminder.id) == before
        resumed = (await client.post(f"{path}/resume", headers=auth)).json()
        resumed_at = datetime.now(UTC)
        assert resumed["status"] == "active" and datetime.fromisoformat(resumed["next_due_at"]) > resumed_at
        await until(lambda: _more_than(providers, reminder.id, before), what="firing again")
        gap = await rows(
            providers,
            "SELECT due_at FROM reminder_occurrences WHERE reminder_id = $1 AND due_at > $2 AND due_at <= $3",
            reminder.id,
            paused_at + timedelta(seconds=0.5),
            resumed_at,
        )
        assert gap == []  # the paused ones were neither fired nor recorded missed
        assert (await client.delete(path, headers=auth)).status_code == 204
        gone = await _count(providers, reminder.id)
        await asyncio.sleep(2.5)
        assert await _count(providers, reminder.id) == gone
    assert (await client.get(path, headers=auth)).status_code == 404
    assert (await client.delete(path, headers=auth)).status_code == 404
    assert (await client.post(f"{path}/resume", headers=auth)).status_code == 404
    assert (await client.get("/v1/reminders", headers=auth)).json()["items"] == []


async def _fired(providers: Providers, reminder_id: object) -> bool:
    return await _count(providers, reminder_id) > 0


async def _more_than(providers: Providers, reminder_id: object, count: int) -> bool:
    return await _count(providers, reminder_id) > count


async def test_others_reminders_are_not_found(client: httpx.AsyncClient, providers: Providers) -> None:
    owner = await new_user(client)
    other = await new_user(client)
    reminder = await add_reminder(providers, await _me(client, owner), first_at=soon(3600), rule="FREQ=DAILY")
    occurrence = uuid.uuid4()
    base = f"/v1/reminders/{reminder.id}"
    for method, path in [
        ("GET", base),
        ("POST", f"{base}/pause"),
        ("POST", f"{base}/resume"),
        ("DELETE", base),
        ("GET", f"{base}/occurrences"),
        ("POST", f"{base}/occurrences/{occurrence}/ack"),
        ("GET", f"{base}/adherence"),
    ]:
        answer = await client.request(method, path, headers=other)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/reminders", headers=other)).json()["items"] == []
    assert (await client.get(base, headers=owner)).status_code == 200
    assert (await client.post(f"{base}/occurrences/{occurrence}/ack", headers=owner)).status_code == 404
    assert (await client.get("/v1/reminders", headers={})).status_code == 401


async def test_bad_parameters_are_4xx_problems(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for path in [
        "/v1/reminders/not-a-uuid",
        f"/v1/reminders/{uuid.uuid4()}/adherence?days=0",
        f"/v1/reminders/{uuid.uuid4()}/occurrences?limit=100000",
        "/v1/reminders?status=sleeping",
    ]:
        answer = await client.get(path, headers=auth)
        assert answer.status_code == 422, (path, answer.text)


async def test_adherence_counts_taken_late_and_missed_doses_of_the_last_30_days(
    client: httpx.AsyncClient, providers: Providers
) -> None:
    auth = await new_user(client)
    user = await _me(client, auth)
    now = datetime.now(UTC)
    reminder = await add_reminder(providers, user, first_at=now - timedelta(days=45), rule="FREQ=DAILY")
    day = timedelta(days=1)

    async def occurrence(days_ago: int, late_in: timedelta, miss_in: timedelta, **extra: object) -> uuid.UUID:
        occ_id, fired = uuid.uuid4(), now - days_ago * day
        status, reason = str(extra.get("status", "pending")), extra.get("reason")
        await value(
            providers,
            """INSERT INTO reminder_occurrences (id, reminder_id, user_id, due_at, status, reason, fired_at,
                                                 late_at, miss_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
            occ_id, reminder.id, user, fired, status, reason, fired, now + late_in, now + miss_in,
        )  # fmt: skip
        return occ_id

    on_time = await occurrence(1, timedelta(minutes=5), timedelta(hours=1))
    late = await occurrence(2, -timedelta(minutes=5), timedelta(hours=1))
    forgotten = await occurrence(3, -timedelta(hours=2), -timedelta(seconds=1))
    await occurrence(4, -day, -day, status="missed", reason="not_delivered")
    await occurrence(5, timedelta(minutes=5), timedelta(hours=1))  # still pending
    await occurrence(40, -day, -day, status="taken")  # older than the window
    base = f"/v1/reminders/{reminder.id}"
    assert (await client.post(f"{base}/occurrences/{on_time}/ack", headers=auth)).json()["status"] == "taken"
    assert (await client.post(f"{base}/occurrences/{late}/ack", headers=auth)).json()["status"] == "late"
    again = await client.post(f"{base}/occurrences/{on_time}/ack", headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "taken"  # idempotent
    assert await PostgresReminderScheduler(providers.pool).mark_missed(100) >= 1
    counts = (await client.get(f"{base}/adherence", headers=auth)).json()
    assert {k: counts[k] for k in ("taken", "late", "missed", "pending", "not_delivered", "rate")} == {
        "taken": 1,
        "late": 1,
        "missed": 2,
        "pending": 1,
        "not_delivered": 1,
        "rate": 0.5,
    }
    # A dose recorded missed that the person says they took after all: late, not lost.
    assert (await client.post(f"{base}/occurrences/{forgotten}/ack", headers=auth)).json()["status"] == "late"
    ledger = (await client.get(f"{base}/occurrences?limit=3", headers=auth)).json()["items"]
    assert [o["status"] for o in ledger] == ["taken", "late", "late"]


async def test_the_escalation_ladder_is_per_user_and_checked(client: httpx.AsyncClient) -> None:
    auth = await new_user(client)
    default = (await client.get("/v1/reminders/escalation", headers=auth)).json()
    assert default == {
        "steps": [
            {"after_seconds": 600, "action": "reprompt", "contacts": []},
            {"after_seconds": 1800, "action": "family", "contacts": []},
        ],
        "missed_after_seconds": 14400,
    }
    mine = {
        "steps": [
            {"after_seconds": 300, "action": "reprompt", "contacts": []},
            {"after_seconds": 900, "action": "family", "contacts": ["Anna"]},
        ],
        "missed_after_seconds": 3600,
    }
    assert (await client.put("/v1/reminders/escalation", json=mine, headers=auth)).json() == mine
    assert (await client.get("/v1/reminders/escalation", headers=auth)).json() == mine
    other = await new_user(client)
    assert (await client.get("/v1/reminders/escalation", headers=other)).json() == default
    for bad in [
        {"steps": [{"after_seconds": 900, "action": "family"}, {"after_seconds": 300, "action": "reprompt"}],
         "missed_after_seconds": 3600},
        {"steps": [{"after_seconds": 900, "action": "family"}], "missed_after_seconds": 600},
        {"steps": [{"after_seconds": 900, "action": "call the police"}], "missed_after_seconds": 3600},
        {"steps": [], "missed_after_seconds": 0},
    ]:  # fmt: skip
        answer = await client.put("/v1/reminders/escalation", json=bad, headers=auth)
        assert answer.status_code == 422, answer.text


async def test_i_took_it_as_a_message_acknowledges_the_dose(
    client: httpx.AsyncClient, providers: Providers
) -> None:
    auth = await new_user(client)
    reminder = await add_reminder(
        providers,
        await _me(client, auth),
        first_at=datetime.now(UTC) - timedelta(seconds=1),
        rule="FREQ=DAILY",
    )
    fired = await PostgresReminderScheduler(providers.pool).fire_due(
        500, lambda due, now: plan_firing(due, now, FiringRules(timedelta(minutes=30)))
    )
    assert fired.fired == 1
    async with running_worker(providers):
        sent = await client.post("/v1/messages", json={"text": "I took it"}, headers=auth)
        task = await wait_for_status(providers, uuid.UUID(sent.json()["task_id"]), {TaskStatus.SUCCEEDED})
        asked = await client.post(
            "/v1/messages", json={"text": "did I take my heart pill today?"}, headers=auth
        )
        answer = await wait_for_status(providers, uuid.UUID(asked.json()["task_id"]), {TaskStatus.SUCCEEDED})
    occurrences = (await client.get(f"/v1/reminders/{reminder.id}/occurrences", headers=auth)).json()["items"]
    assert occurrences[0]["status"] == "taken"
    assert task.reply == "Thank you, I've noted that you took your heart pills."
    assert answer.reply is not None and answer.reply.startswith("Yes, you took your heart pills today at ")
