"""The person's own app webhook: registered through /v1/me/webhook with its secret shown once, checked
like a contact's, and pushed to through the family webhooks' machinery (signed, retried, logged,
replayable, never sent twice), to a receiver on 127.0.0.1 that verifies every signature."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.app_webhooks import push_to_app, reminder_notice
from domain.notify_ports import ContactsUnitOfWorkFactory
from domain.ports import Doorbell
from domain.reminders import Delivery
from domain.tasks import Lane, TaskStatus
from providers.wiring import Providers
from tests.conftest import Services, new_user, running_scheduler, running_worker
from tests.helpers import count
from tests.notify.conftest import api_client, notify_settings
from tests.notify.helpers import fast_forward, finished
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.usefixtures("remove_notify_tasks")

HOOK = "http://127.0.0.1:9/hooks/app"
PROBLEM = "application/problem+json"


async def put_webhook(
    client: httpx.AsyncClient, auth: dict[str, str], url: str, **extra: str
) -> httpx.Response:
    return await client.put("/v1/me/webhook", json={"url": url, **extra}, headers=auth)


async def me(client: httpx.AsyncClient, auth: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])


def contacts_uow(providers: Providers) -> ContactsUnitOfWorkFactory:
    factory: ContactsUnitOfWorkFactory = providers.skill_ports[ContactsUnitOfWorkFactory]  # type: ignore[assignment]
    return factory


def dose(user_id: uuid.UUID, step: str = "due") -> Delivery:
    """A reminder delivery as the reminder lane's deliver skill hands it to ReminderPush."""
    return Delivery(
        id=uuid.uuid4(),
        user_id=user_id,
        reminder_id=uuid.uuid4(),
        occurrence_id=uuid.uuid4(),
        step=step,
        text="Time to take your heart pills (2 tablets).",
        due_at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
    )


async def push(providers: Providers, delivery: Delivery, *, publish: bool = True) -> uuid.UUID | None:
    async with contacts_uow(providers)() as uow:
        return await push_to_app(
            delivery.user_id, reminder_notice(delivery), uow=uow, queue=providers.streams if publish else None
        )


async def app_deliveries(client: httpx.AsyncClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/v1/me/webhook/deliveries", headers=auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_webhook_is_registered_with_its_secret_once_and_moved_keeping_it(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    created = await put_webhook(client, auth, HOOK)
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    shown = await client.get("/v1/me/webhook", headers=auth)
    assert shown.status_code == 200 and shown.json()["url"] == HOOK
    assert "secret" not in shown.json() and secret not in shown.text
    moved = await put_webhook(client, auth, "http://127.0.0.1:10/hooks/app")
    assert moved.status_code == 200, moved.text
    assert moved.json()["secret"] is None and moved.json()["id"] == created.json()["id"]
    assert (await client.get("/v1/me/webhook", headers=auth)).json()["url"] == "http://127.0.0.1:10/hooks/app"
    rotated = await client.post("/v1/me/webhook/rotate-secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != secret
    assert rotated.json()["previous_valid_until"]
    assert (await client.delete("/v1/me/webhook", headers=auth)).status_code == 204
    mine = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    again = await put_webhook(client, auth, HOOK, secret=mine)
    assert again.status_code == 201 and again.json()["secret"] == mine
    assert again.json()["id"] != created.json()["id"]


async def test_bad_input_is_a_4xx_problem_and_a_missing_webhook_a_404(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for path, method in [
        ("/v1/me/webhook", "GET"),
        ("/v1/me/webhook", "DELETE"),
        ("/v1/me/webhook/rotate-secret", "POST"),
        ("/v1/me/webhook/deliveries", "GET"),
        (f"/v1/me/webhook/deliveries/{uuid.uuid4()}/replay", "POST"),
    ]:
        missing = await client.request(method, path, headers=auth)
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM, (path, missing.text)
    for body in [{}, {"url": ""}, {"url": "ftp://example.com/"}, {"url": HOOK, "secret": "hunter2"},
                 {"url": HOOK, "other": 1}, {"url": "http://user:pw@example.com/"}]:  # fmt: skip
        bad = await client.put("/v1/me/webhook", json=body, headers=auth)
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM, (body, bad.text)
    assert (await client.get("/v1/me/webhook", headers=auth)).status_code == 404
    assert (await put_webhook(client, auth, HOOK)).status_code == 201
    rekeyed = await put_webhook(client, auth, HOOK, secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert rekeyed.status_code == 422 and "rotate-secret" in rekeyed.json()["detail"]
    page = await client.get("/v1/me/webhook/deliveries?limit=0", headers=auth)
    assert page.status_code == 422
    anonymous = await client.put("/v1/me/webhook", json={"url": HOOK})
    assert anonymous.status_code == 401


async def test_a_private_destination_is_refused_without_the_operator_setting(services: Services) -> None:
    async with api_client(notify_settings(services, webhooks_allow_private=False)) as client:
        auth = await new_user(client)
        for url in ("http://127.0.0.1/hook", "http://10.0.0.7/hook", "http://[::ffff:192.168.1.1]/"):
            refused = await put_webhook(client, auth, url)
            assert refused.status_code == 422, refused.text
            assert "address" in refused.json()["detail"]
        assert (await client.get("/v1/me/webhook", headers=auth)).status_code == 404


async def test_a_push_reaches_the_app_once_signed_however_often_it_is_asked(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = await me(client, auth)
    async with Receiver() as app:
        app.secrets = [(await put_webhook(client, auth, app.url)).json()["secret"]]
        delivery = dose(user_id)
        task_ids = {await push(providers, delivery) for _ in range(3)}  # a re-run delivery asks again
        [task_id] = task_ids
        assert task_id is not None
        await providers.streams.publish([Doorbell(task_id, Lane.NOTIFY, "notify_app")])  # a duplicate
        async with running_worker(providers, concurrency=8):
            done = await finished(providers, task_id, TaskStatus.SUCCEEDED)
    [received] = app.delivered()
    assert len(app.requests) == 1
    payload = received.payload
    assert payload["type"] == "reminder.due"
    assert payload["data"] == {
        "delivery_id": received.webhook_id,
        "task_id": str(delivery.id),
        "reminder_id": str(delivery.reminder_id),
        "occurrence_id": str(delivery.occurrence_id),
        "step": "due",
        "text": "Time to take your heart pills (2 tablets).",
        "due_at": "2026-11-23T07:00:00+00:00",
        "ack_path": f"/v1/reminders/{delivery.reminder_id}/occurrences/{delivery.occurrence_id}/ack",
    }
    assert done.result == {
        "delivery_id": received.webhook_id,
        "event_type": "reminder.due",
        "delivered": True,
        "status_code": 200,
    }
    [logged] = await app_deliveries(client, auth)
    assert logged["id"] == received.webhook_id and logged["event_type"] == "reminder.due"
    assert [(a["result"], a["status_code"]) for a in logged["attempts"]] == [("delivered", 200)]
    assert await count(providers, "SELECT count(*) FROM tasks WHERE user_id = $1", user_id) == 1


async def test_a_failed_push_is_retried_and_a_refused_one_can_be_replayed(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = await me(client, auth)
    async with Receiver(answers=[503, 200, 410]) as app:
        app.secrets = [(await put_webhook(client, auth, app.url)).json()["secret"]]
        async with running_worker(providers), running_scheduler(providers):
            retried = await push(providers, dose(user_id))
            assert retried is not None
            await finished(providers, retried, TaskStatus.RETRYING)
            await fast_forward(providers, retried)
            await finished(providers, retried, TaskStatus.SUCCEEDED)
            refused = await push(providers, dose(user_id, "reprompt"))
            assert refused is not None
            dead = await finished(providers, refused, TaskStatus.DEAD_LETTERED)
            assert dead.error is not None and dead.error["status_code"] == 410
            newest = (await app_deliveries(client, auth))[0]
            assert newest["status"] == "dead" and newest["event_type"] == "reminder.reprompt"
            path = f"/v1/me/webhook/deliveries/{newest['id']}/replay"
            assert (await client.post(path, headers=auth)).status_code == 202
            await finished(providers, refused, TaskStatus.SUCCEEDED)
    assert [r.status for r in app.requests] == [503, 200, 410, 200]
    assert len({r.webhook_id for r in app.requests}) == 2 and len(app.delivered()) == 2
    logged = await app_deliveries(client, auth)
    assert [[a["result"] for a in d["attempts"]] for d in logged] == [
        ["rejected", "delivered"],
        ["failed", "delivered"],
    ]
    assert (await client.post(path, headers=auth)).status_code == 409


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = await me(client, auth)
    async with Receiver() as app:
        old = (await put_webhook(client, auth, app.url)).json()["secret"]
        new = (await client.post("/v1/me/webhook/rotate-secret", headers=auth)).json()["secret"]
        app.secrets = [old, new]
        task_id = await push(providers, dose(user_id))
        assert task_id is not None
        async with running_worker(providers):
            await finished(providers, task_id, TaskStatus.SUCCEEDED)
    [received] = app.delivered()
    assert received.verified_by == [0, 1]


async def test_nothing_is_pushed_without_a_webhook_or_after_it_is_removed(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = await me(client, auth)
    assert await push(providers, dose(user_id)) is None
    assert await count(providers, "SELECT count(*) FROM tasks WHERE user_id = $1", user_id) == 0
    async with Receiver() as app:
        await put_webhook(client, auth, app.url)
        queued = await push(providers, dose(user_id), publish=False)  # the relay publishes it later
        assert queued is not None
        assert (await client.delete("/v1/me/webhook", headers=auth)).status_code == 204
        async with running_worker(providers), running_scheduler(providers):
            done = await finished(providers, queued, TaskStatus.SUCCEEDED)
    assert done.result == {"delivered": False, "reason": "no app webhook"}
    assert app.requests == []
