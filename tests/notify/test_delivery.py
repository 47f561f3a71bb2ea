"""Family messages and notifications through the real pipeline: API, stream, worker, webhook to a
receiver on 127.0.0.1 that verifies each signature with `standardwebhooks`."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from domain.notify import notify_contacts
from domain.notify_ports import ContactsUnitOfWorkFactory
from domain.ports import Doorbell
from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.conftest import Services, running_scheduler, running_worker
from tests.helpers import count, make_user
from tests.notify.conftest import notify_settings, other_providers
from tests.notify.helpers import add_contact, deliveries, fast_forward, finished, send_message
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.usefixtures("remove_notify_tasks")


def contacts_uow(providers: Providers) -> ContactsUnitOfWorkFactory:
    factory: ContactsUnitOfWorkFactory = providers.skill_ports[ContactsUnitOfWorkFactory]  # type: ignore[assignment]
    return factory


async def test_a_confirmed_message_reaches_the_daughter_once_signed(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    await client.patch("/v1/me", json={"name": "Maria"}, headers=auth)
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url)
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(providers):
            done = await finished(providers, task["task_id"])
    assert done.status is TaskStatus.SUCCEEDED
    assert done.reply == "I sent your message to Anna."
    [received] = hook.delivered()
    assert len(hook.requests) == 1
    payload = received.payload
    assert payload["type"] == "family.message"
    assert payload["data"]["text"] == "I'll be late"
    assert payload["data"]["topic"] == "messages"
    assert payload["data"]["contact"] == {"id": anna["id"], "name": "Anna"}
    assert payload["data"]["from"] == {"name": "Maria"}
    assert payload["data"]["delivery_id"] == received.webhook_id == done.result["delivery_id"]
    [delivery] = await deliveries(client, auth, anna["id"])
    assert delivery["id"] == received.webhook_id and delivery["status"] == "succeeded"
    assert [(a["result"], a["status_code"]) for a in delivery["attempts"]] == [("delivered", 200)]


async def test_a_contact_who_did_not_consent_is_not_told(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url, consents=("escalations", "bookings"))
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(providers):
            done = await finished(providers, task["task_id"])
    assert done.status is TaskStatus.DEAD_LETTERED
    assert done.reply == "Anna hasn't agreed to get messages from me, so I didn't send it."
    assert done.error is not None and done.error["type"] == "ConsentMissing"
    assert hook.requests == []
    assert await deliveries(client, auth, anna["id"]) == []


async def test_an_unknown_or_ambiguous_contact_is_asked_about_never_guessed(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver() as hook:
        await add_contact(client, auth, hook.url, name="Anna", relation="daughter")
        await add_contact(client, auth, hook.url, name="Tom", relation="son")
        unknown = await send_message(client, auth, "tell my grandson I'll be late")
        await add_contact(client, auth, hook.url, name="Beth", relation="daughter")
        ambiguous = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(providers):
            asked = await finished(providers, unknown["task_id"])
            torn = await finished(providers, ambiguous["task_id"])
    assert asked.status is TaskStatus.NEEDS_INPUT
    assert asked.reply == "Who should I send it to? You have: Anna (daughter), Tom (son), Beth (daughter)."
    assert torn.status is TaskStatus.NEEDS_INPUT
    assert torn.reply == "Who should I send it to? You have: Anna (daughter), Beth (daughter)."
    assert torn.result == {"ask": "contact", "options": ["Anna (daughter)", "Beth (daughter)"]}
    assert hook.requests == []


async def test_two_failures_then_success_make_one_delivery_with_every_attempt_logged(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver(answers=[500, 503]) as hook:
        anna = await add_contact(client, auth, hook.url)
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "message Anna: dinner is at six")
        async with running_worker(providers), running_scheduler(providers):
            waiting = await finished(providers, task["task_id"], TaskStatus.RETRYING)
            assert waiting.reply == "I couldn't reach Anna just now. I'll keep trying."
            events = (await client.get(f"/v1/tasks/{task['task_id']}/events", headers=auth)).json()
            assert events[-1]["reason"].startswith("retry in 4.") or events[-1]["reason"].startswith(
                "retry in 5."
            )
            await fast_forward(providers, task["task_id"])
            await hook.wait_for(2)
            await finished(providers, task["task_id"], TaskStatus.RETRYING)
            await fast_forward(providers, task["task_id"])
            done = await finished(providers, task["task_id"], TaskStatus.SUCCEEDED)
    assert done.reply == "I sent your message to Anna." and done.attempts == 3
    assert [r.status for r in hook.requests] == [500, 503, 200]
    assert len({r.webhook_id for r in hook.requests}) == 1
    assert len(hook.delivered()) == 1
    [delivery] = await deliveries(client, auth, anna["id"])
    assert delivery["status"] == "succeeded"
    assert [(a["attempt"], a["result"], a["status_code"]) for a in delivery["attempts"]] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "delivered", 200),
    ]


async def test_a_4xx_is_dead_lettered_at_once_and_can_be_replayed(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver(answers=[410]) as hook:
        anna = await add_contact(client, auth, hook.url)
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(providers):
            dead = await finished(providers, task["task_id"])
            assert dead.status is TaskStatus.DEAD_LETTERED and dead.attempts == 1
            assert dead.error is not None and dead.error["status_code"] == 410
            assert dead.reply == "I'm sorry, I couldn't deliver your message to Anna."
            [delivery] = await deliveries(client, auth, anna["id"])
            assert delivery["status"] == "dead" and delivery["last_status_code"] == 410
            path = f"/v1/contacts/{anna['id']}/deliveries/{delivery['id']}/replay"
            replayed = await client.post(path, headers=auth)
            assert replayed.status_code == 202, replayed.text
            done = await finished(providers, task["task_id"], TaskStatus.SUCCEEDED)
    assert done.reply == "I sent your message to Anna."
    assert [r.status for r in hook.requests] == [410, 200]
    [delivery] = await deliveries(client, auth, anna["id"])
    assert [a["result"] for a in delivery["attempts"]] == ["rejected", "delivered"]
    again = await client.post(path, headers=auth)
    assert again.status_code == 409


async def test_duplicate_doorbells_and_reruns_send_one_webhook(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url)
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my daughter I'll be late", confirm=False)
        task_id = uuid.UUID(task["task_id"])
        await client.post(f"/v1/tasks/{task_id}/confirm", headers=auth)
        for _ in range(3):  # the same doorbell rung again, as a relay or a redelivery might
            await providers.streams.publish(
                [Doorbell(task_id, providers.registry.for_intent("notify_family").lane, "notify_family")]
            )
        async with running_worker(providers, concurrency=8):
            await finished(providers, task_id, TaskStatus.SUCCEEDED)
            await asyncio.sleep(0.3)
            # A run after the send that never recorded its outcome (a crash): the log says sent.
            async with providers.pool.acquire() as conn:
                await conn.execute(
                    "UPDATE tasks SET status = 'queued', not_before = now() WHERE id = $1", task_id
                )
            await providers.streams.publish(
                [Doorbell(task_id, providers.registry.for_intent("notify_family").lane, "notify_family")]
            )
            await finished(providers, task_id, TaskStatus.SUCCEEDED)
            rerun = await count(
                providers,
                "SELECT count(*) FROM task_events WHERE task_id = $1 AND to_status = 'running'",
                task_id,
            )
    assert rerun == 2
    assert len(hook.requests) == 1
    [delivery] = await deliveries(client, auth, anna["id"])
    assert len(delivery["attempts"]) == 1


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url)
        rotated = (await client.post(f"/v1/contacts/{anna['id']}/rotate-secret", headers=auth)).json()
        hook.secrets = [anna["secret"], rotated["secret"]]
        first = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(providers):
            await finished(providers, first["task_id"], TaskStatus.SUCCEEDED)
            async with providers.pool.acquire() as conn:  # the grace period ends
                await conn.execute(
                    "UPDATE contacts SET previous_secret_until = now() - interval '1 second' WHERE id = $1",
                    uuid.UUID(anna["id"]),
                )
            second = await send_message(client, auth, "tell my daughter I'm home")
            await finished(providers, second["task_id"], TaskStatus.SUCCEEDED)
    during, after = hook.requests
    assert during.verified_by == [0, 1], "a receiver with the old secret and one with the new both verify"
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified_by == [1]


async def test_a_timeout_is_retried(
    services: Services, client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    quick = notify_settings(
        services, redis_prefix=providers.settings.redis_prefix, webhooks_timeout_seconds=0.3
    )
    async with Receiver(delay=1.0) as hook, other_providers(quick) as fast:
        anna = await add_contact(client, auth, hook.url)
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(fast):
            waiting = await finished(providers, task["task_id"], TaskStatus.RETRYING)
    assert waiting.error is not None and waiting.error["message"] == "timeout"
    [delivery] = await deliveries(client, auth, anna["id"])
    assert delivery["status"] == "retrying" and delivery["attempts"][0]["error"] == "timeout"


async def test_a_destination_that_turned_private_is_refused_at_send_time(
    services: Services, client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    strict = notify_settings(
        services, redis_prefix=providers.settings.redis_prefix, webhooks_allow_private=False
    )
    async with Receiver() as hook, other_providers(strict) as guarded:
        anna = await add_contact(client, auth, hook.url)  # accepted where private addresses are allowed
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my daughter I'll be late")
        async with running_worker(guarded):
            dead = await finished(providers, task["task_id"])
    assert dead.status is TaskStatus.DEAD_LETTERED and dead.attempts == 1
    assert dead.error is not None and dead.error["type"] == "DestinationRefused"
    assert hook.requests == []
    [delivery] = await deliveries(client, auth, anna["id"])
    assert [(a["result"], a["status_code"]) for a in delivery["attempts"]] == [("refused", None)]


async def test_notify_contacts_reaches_only_consenting_contacts_once(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    async with Receiver() as yes, Receiver() as no, Receiver() as other:
        anna = await add_contact(client, auth, yes.url, consents=("escalations",))
        await add_contact(client, auth, no.url, name="Tom", relation="son", consents=("messages",))
        await add_contact(client, auth, other.url, name="Eva", relation="niece", consents=("bookings",))
        yes.secrets = [anna["secret"]]
        source = uuid.uuid4()
        text = "Maria has not taken her 8:00 heart pills."
        calls = []
        async with contacts_uow(providers)() as uow:
            for _ in range(2):  # a retried reminder job asks again
                calls.append(
                    await notify_contacts(
                        user_id, "escalations", text, source_id=source, uow=uow, queue=providers.streams
                    )
                )
        assert calls[0] == calls[1] and len(calls[0]) == 1
        async with running_worker(providers):
            done = await finished(providers, calls[0][0], TaskStatus.SUCCEEDED)
    assert done.result is not None and done.result["delivered"] is True
    [received] = yes.delivered()
    assert received.payload["type"] == "reminder.escalation" and received.payload["data"]["text"] == text
    assert no.requests == [] and other.requests == []
    assert await count(providers, "SELECT count(*) FROM tasks WHERE id = $1", calls[0][0]) == 1


async def test_notify_contacts_inside_a_transaction_is_published_by_the_relay(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url, consents=("bookings",))
        hook.secrets = [anna["secret"]]
        async with contacts_uow(providers)() as uow, uow.transaction():
            [task_id] = await notify_contacts(
                user_id,
                "bookings",
                "Table for 2 at Luigi's, Fri 19:00, confirmed.",
                source_id=uuid.uuid4(),
                uow=uow,
                queue=None,
            )
        async with running_worker(providers), running_scheduler(providers):
            await finished(providers, task_id, TaskStatus.SUCCEEDED)
    assert [r.payload["type"] for r in hook.delivered()] == ["booking.notice"]


async def test_consent_withdrawn_before_sending_stops_a_queued_notification(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    user_id = uuid.UUID((await client.get("/v1/me", headers=auth)).json()["id"])
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url, consents=("escalations",))
        async with contacts_uow(providers)() as uow:
            [task_id] = await notify_contacts(
                user_id,
                "escalations",
                "Missed pills.",
                source_id=uuid.uuid4(),
                uow=uow,
                queue=providers.streams,
            )
        await client.patch(
            f"/v1/contacts/{anna['id']}", json={"consents": {"escalations": False}}, headers=auth
        )
        async with running_worker(providers):
            done = await finished(providers, task_id, TaskStatus.SUCCEEDED)
    assert done.result == {"delivered": False, "reason": "no consent"}
    assert hook.requests == []


async def test_notify_contacts_refuses_empty_text(providers: Providers) -> None:
    user_id = await make_user(providers)
    async with contacts_uow(providers)() as uow:
        try:
            await notify_contacts(user_id, "escalations", "  ", source_id=uuid.uuid4(), uow=uow, queue=None)
        except Exception as exc:  # noqa: BLE001
            assert type(exc).__name__ == "InvalidInput"
        else:
            raise AssertionError("empty text accepted")


async def test_answering_who_sends_it_to_fills_the_contact_then_it_is_sent(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with Receiver() as hook:
        anna = await add_contact(client, auth, hook.url)
        hook.secrets = [anna["secret"]]
        task = await send_message(client, auth, "tell my grandson I'll be late")
        async with running_worker(providers):
            asked = await finished(providers, task["task_id"])
            assert asked.status is TaskStatus.NEEDS_INPUT
            body = {"text": "Anna", "conversation_id": task["conversation_id"]}
            answer = (await client.post("/v1/messages", json=body, headers=auth)).json()
            assert answer["task_id"] == task["task_id"] and answer["status"] == "awaiting_confirmation"
            await client.post(f"/v1/tasks/{task['task_id']}/confirm", headers=auth)
            done = await finished(providers, task["task_id"], TaskStatus.SUCCEEDED)
    assert done.reply == "I sent your message to Anna." and len(hook.delivered()) == 1
