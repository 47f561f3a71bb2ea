"""End to end through POST /v1/messages: a daily medicine reminder is set by a message and confirmed,
fires, goes unacknowledged, re-prompts, escalates to the consenting daughter's signed webhook and is
recorded missed; each delivery to the person is a task they can poll and is pushed, signed, to
their own app webhook. Real PostgreSQL, Redis, worker and scheduler; local receivers verify every
signature with `standardwebhooks`.

Time: the person speaks at 07:59:50 by their clock (the injected Clock port, which the API and
the worker read), so "every day at 8" is set for 08:00 of that day, an instant the database's clock
has already passed; the scheduler fires it at once because the catch-up window
(`reminder_catch_up_seconds`) is set to two days, as after downtime. The ladder runs in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.app import create_app
from domain.tasks import TaskStatus
from providers.settings import Settings
from providers.wiring import Providers
from tests.conftest import Services, make_settings, new_user, running_worker
from tests.notify.receiver import Receiver
from tests.reminders.conftest import reminder_scheduler, rows, until

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LADDER = {
    "steps": [
        {"after_seconds": 1, "action": "reprompt", "contacts": []},
        {"after_seconds": 2, "action": "family", "contacts": []},
    ],
    "missed_after_seconds": 3,
}


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(
        services,
        webhooks_allow_private=True,  # the receivers listen on 127.0.0.1
        webhooks_timeout_seconds=2.0,
        reminder_catch_up_seconds=2 * 86_400,
    )


class ShiftedClock:
    """The real clock, `offset` away: the person's day, as the API and the skills see it."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def ten_seconds_before_the_last_eight_oclock() -> timedelta:
    """The offset that makes the clock read 07:59:50 (Stockholm) of the last day whose 08:00 has passed."""
    real = datetime.now(STOCKHOLM)
    eight = real.replace(hour=8, minute=0, second=0, microsecond=0)
    if eight > real - timedelta(minutes=1):
        eight -= timedelta(days=1)
    return (eight - timedelta(seconds=10)).astimezone(UTC) - datetime.now(UTC)


@contextlib.asynccontextmanager
async def api(settings: Settings, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, providers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            yield http


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def greta_with_her_app_and_her_daughter(
    client: httpx.AsyncClient, app: Receiver, daughter: Receiver
) -> dict[str, str]:
    """A person in Stockholm with an app webhook, a daughter who agreed to escalations, and a ladder
    in seconds; the receivers learn the secrets."""
    auth = await new_user(client, timezone="Europe/Stockholm")
    await ok(await client.patch("/v1/me", json={"name": "Greta"}, headers=auth))
    hook = await ok(await client.put("/v1/me/webhook", json={"url": app.url}, headers=auth), 201)
    app.secrets = [hook["secret"]]
    anna = {"name": "Anna", "relation": "daughter", "webhook_url": daughter.url}
    contact = await client.post("/v1/contacts", json=anna | {"consents": {"escalations": True}}, headers=auth)
    daughter.secrets = [(await ok(contact, 201))["secret"]]
    await ok(await client.put("/v1/reminders/escalation", json=LADDER, headers=auth))
    return auth


async def test_a_daily_medicine_reminder_set_by_message_fires_is_missed_and_escalates_signed(
    settings: Settings, providers: Providers
) -> None:
    providers = replace(providers, clock=ShiftedClock(ten_seconds_before_the_last_eight_oclock()))
    async with api(settings, providers) as client, Receiver() as daughter, Receiver() as app:
        auth = await greta_with_her_app_and_her_daughter(client, app, daughter)
        text = "remind me to take my heart pills every day at 8"
        sent = await ok(await client.post("/v1/messages", json={"text": text}, headers=auth), 202)
        assert (sent["intent"], sent["status"]) == ("set_reminder", "awaiting_confirmation")
        await ok(await client.post(f"/v1/tasks/{sent['task_id']}/confirm", headers=auth))

        async with running_worker(providers), reminder_scheduler(providers):
            answer = await ok(await client.get(f"{sent['status_url']}?wait=10", headers=auth))
            while answer["status"] != "succeeded":
                assert answer["status"] in ("queued", "running"), answer
                answer = await ok(await client.get(f"{sent['status_url']}?wait=10", headers=auth))
            assert answer["reply"] == "I'll remind you to take your heart pills every day at 08:00."
            reminder_id = answer["result"]["reminder_id"]
            occurrences = f"/v1/reminders/{reminder_id}/occurrences"

            async def missed() -> bool:
                items = (await ok(await client.get(occurrences, headers=auth)))["items"]
                return bool(items) and items[0]["status"] == "missed"

            await until(missed, what="the dose recorded missed")
            await daughter.wait_for(1)
            await app.wait_for(3)
            await until(lambda: _all_done(providers, uuid.UUID(sent["task_id"])), what="every task done")
            await asyncio.sleep(1.5)  # the scheduler keeps passing: nothing more may be sent

        [occurrence] = (await ok(await client.get(occurrences, headers=auth)))["items"]
        due_at = datetime.fromisoformat(occurrence["due_at"]).astimezone(STOCKHOLM)
        assert f"{due_at:%H:%M}" == "08:00" and occurrence["status"] == "missed"

        # The family: one signed webhook, verified, once.
        assert len(daughter.requests) == 1
        [alert] = daughter.delivered()
        assert alert.payload["type"] == "reminder.escalation"
        assert alert.payload["data"]["text"] == "Greta has not confirmed taking heart pills, due at 08:00."
        details = alert.payload["data"]["details"]
        assert (details["reminder_id"], details["occurrence_id"]) == (reminder_id, occurrence["id"])

        # The person's app: the dose, the re-prompt and the news that the family was told, each
        # pushed once, signed, each a task to poll.
        assert len(app.requests) == 3
        pushed = sorted(app.delivered(), key=lambda p: str(p.payload["type"]))
        assert [p.payload["type"] for p in pushed] == [
            "reminder.due",
            "reminder.escalated",
            "reminder.reprompt",
        ]
        assert len({p.webhook_id for p in pushed}) == 3
        for push in pushed:
            data = push.payload["data"]
            assert (data["reminder_id"], data["occurrence_id"]) == (reminder_id, occurrence["id"])
            assert datetime.fromisoformat(data["due_at"]) == datetime.fromisoformat(occurrence["due_at"])
            polled = await ok(await client.get(f"/v1/tasks/{data['task_id']}", headers=auth))
            assert (polled["status"], polled["reply"]) == ("succeeded", data["text"])
            assert polled["result"]["ack_path"] == data["ack_path"]
        assert pushed[0].payload["data"]["text"] == "Time to take your heart pills."
        assert (
            pushed[1].payload["data"]["text"]
            == "I didn't hear back from you about your heart pills, so I've let your family know."
        )
        assert (
            pushed[2].payload["data"]["text"]
            == "Just checking: did you take your heart pills? It was due at 08:00."
        )

        logged = (await ok(await client.get("/v1/me/webhook/deliveries", headers=auth)))["items"]
        assert sorted(d["id"] for d in logged) == sorted(p.webhook_id for p in pushed)
        assert all([a["result"] for a in d["attempts"]] == ["delivered"] for d in logged)
        contacts = await ok(await client.get("/v1/contacts", headers=auth))
        family_log = await ok(await client.get(f"/v1/contacts/{contacts[0]['id']}/deliveries", headers=auth))
        assert [d["id"] for d in family_log["items"]] == [alert.webhook_id]
        adherence = await ok(await client.get(f"/v1/reminders/{reminder_id}/adherence", headers=auth))
        assert (adherence["missed"], adherence["taken"], adherence["not_delivered"]) == (1, 0, 0)


async def _all_done(providers: Providers, first_task: uuid.UUID) -> bool:
    """Every task of the person (the message, the deliveries, the alert, the pushes) succeeded."""
    found = await rows(
        providers,
        "SELECT kind, status FROM tasks WHERE user_id = (SELECT user_id FROM tasks WHERE id = $1)",
        first_task,
    )
    kinds = sorted(r["kind"] for r in found)
    expected = ["notify_app", "notify_app", "notify_app", "notify_contact", "reminder_due", "reminder_due",
                "reminder_escalation", "set_reminder"]  # fmt: skip
    return kinds == expected and all(r["status"] == TaskStatus.SUCCEEDED for r in found)
