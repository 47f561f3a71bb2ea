"""A booking said in words: the real parser routes it to the booking skill, which holds, reads back
and, after the person's yes, books. (Until the conversation layer queues a complete booking
straight to the skill, the request is read back once more before the hold: both flows pass.)"""

from __future__ import annotations

import httpx

from domain.bookings import Venue
from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.bookings.conftest import fresh_day
from tests.conftest import new_user, running_worker
from tests.helpers import wait_for_status

SETTLED = {
    TaskStatus.AWAITING_CONFIRMATION,
    TaskStatus.SUCCEEDED,
    TaskStatus.NEEDS_INPUT,
    TaskStatus.DEAD_LETTERED,
}


async def test_book_a_table_in_words(
    providers: Providers, client: httpx.AsyncClient, venues: dict[str, Venue]
) -> None:
    headers = await new_user(client, timezone="Europe/Stockholm")
    day = fresh_day()
    text = f"book a table for 2 at the Golden Dragon on {day.day} {day:%B} at 7pm"
    accepted = await client.post("/v1/messages", json={"text": text}, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["intent"] == "book_restaurant"
    task_id = accepted.json()["task_id"]
    holds = 0
    async with running_worker(providers):
        for _ in range(3):
            task = await wait_for_status(providers, task_id, SETTLED)
            if task.status is not TaskStatus.AWAITING_CONFIRMATION:
                break
            holds += bool(task.result and task.result.get("hold_id"))
            assert (await client.post(f"/v1/tasks/{task_id}/confirm", headers=headers)).status_code == 200
    assert task.status is TaskStatus.SUCCEEDED, task.reply
    assert holds == 1
    assert task.reply is not None and task.reply.startswith("Booked: a table for 2 at Golden Dragon on ")
    assert task.reply.endswith(f"at 19:00. Your reference is {task.result['ref']}.")  # type: ignore[index]


async def test_a_swedish_speaker_is_read_back_and_told_in_swedish(
    providers: Providers, client: httpx.AsyncClient, venues: dict[str, Venue]
) -> None:
    """The worker's replies (the skill's read-back, the confirmation) carry their Swedish too, and
    the person's language setting picks it."""
    headers = await new_user(client, timezone="Europe/Stockholm")
    assert (await client.patch("/v1/me", json={"language": "sv"}, headers=headers)).status_code == 200
    day = fresh_day()
    text = f"book a table for 2 at the Golden Dragon on {day.day} {day:%B} at 7pm"
    accepted = await client.post("/v1/messages", json={"text": text}, headers=headers)
    task_id = accepted.json()["task_id"]
    read_backs: list[str] = []
    async with running_worker(providers):
        for _ in range(3):
            task = await wait_for_status(providers, task_id, SETTLED)
            if task.status is not TaskStatus.AWAITING_CONFIRMATION:
                break
            read_backs.append(task.reply or "")
            assert (await client.post(f"/v1/tasks/{task_id}/confirm", headers=headers)).status_code == 200
    assert task.status is TaskStatus.SUCCEEDED, task.reply
    assert read_backs and all(r.startswith("Boka ett bord för 2 på ") for r in read_backs), read_backs
    assert (task.reply or "").startswith("Jag har bokat ett bord för 2 på Golden Dragon ")
    assert (task.reply or "").endswith(f"kl. 19:00. Ditt bokningsnummer är {task.result['ref']}.")  # type: ignore[index]
