"""The reminders slice's FamilyAlerts over webhooks: an escalation reaches the consenting family
once, however often it is raised, and only the contacts it names when it names some."""

from __future__ import annotations

import uuid

import httpx
import pytest

from domain.reminders import FamilyAlert
from domain.tasks import TaskStatus
from providers.family_alerts import WebhookFamilyAlerts
from providers.postgres.contacts import PostgresContactsUnitOfWorkFactory
from providers.wiring import Providers
from tests.conftest import running_scheduler, running_worker
from tests.notify.helpers import add_contact, finished
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.usefixtures("remove_notify_tasks")


def alert(user_id: uuid.UUID, *contacts: str) -> FamilyAlert:
    return FamilyAlert(
        id=uuid.uuid4(),
        user_id=user_id,
        reminder_id=uuid.uuid4(),
        occurrence_id=uuid.uuid4(),
        step=1,
        text="Maria has not taken her 8:00 heart pills.",
        contacts=contacts,
    )


async def test_an_escalation_reaches_consenting_family_once(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    alerts = WebhookFamilyAlerts(PostgresContactsUnitOfWorkFactory(providers.pool))
    async with Receiver() as anna_hook, Receiver() as tom_hook, Receiver() as eva_hook:
        anna = await add_contact(client, auth, anna_hook.url, consents=("escalations",))
        tom = await add_contact(
            client, auth, tom_hook.url, name="Tom", relation="son", consents=("escalations",)
        )
        await add_contact(client, auth, eva_hook.url, name="Eva", relation="niece", consents=("messages",))
        anna_hook.secrets, tom_hook.secrets = [anna["secret"]], [tom["secret"]]
        everyone, only_the_son = alert(user_id), alert(user_id, "my son")
        for _ in range(2):  # raised again by a retried escalation step
            await alerts.escalate(everyone)
        await alerts.escalate(only_the_son)
        async with running_worker(providers), running_scheduler(providers):
            await tom_hook.wait_for(2)
            await anna_hook.wait_for(1)
            async with providers.pool.acquire() as conn:
                ids = [
                    r["id"] for r in await conn.fetch("SELECT id FROM tasks WHERE kind = 'notify_contact'")
                ]
            for task_id in ids:
                await finished(providers, task_id, TaskStatus.SUCCEEDED)
    assert len(ids) == 3, "one task per (alert, consenting contact), however often it is raised"
    assert len(anna_hook.delivered()) == 1 and len(tom_hook.delivered()) == 2
    assert eva_hook.requests == []
    assert {r.payload["type"] for r in anna_hook.delivered() + tom_hook.delivered()} == {
        "reminder.escalation"
    }
