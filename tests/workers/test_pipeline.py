"""Messages through the real stream, worker and scheduler, in one process: outcomes, duplicates,
retries with backoff, the dead-letter queue and replay."""

from __future__ import annotations

import asyncio
import itertools

import httpx

from domain.ports import Doorbell
from domain.tasks import TaskStatus
from providers.wiring import Providers
from tests.conftest import ADMIN_TOKEN, running_scheduler, running_worker
from tests.helpers import count, enqueue, ensure_probe_tables, get, make_user, wait_for_status

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_message_to_reply(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    async with running_worker(providers):
        accepted = (await client.post("/v1/messages", json={"text": "hello!"}, headers=auth)).json()
        task = (await client.get(accepted["status_url"] + "?wait=10", headers=auth)).json()
        if task["status"] == "running":
            task = (await client.get(accepted["status_url"] + "?wait=10", headers=auth)).json()
    assert task["status"] == "succeeded"
    assert task["reply"] == "Hello! How can I help you today?"
    assert task["attempts"] == 1
    events = (await client.get(accepted["status_url"] + "/events", headers=auth)).json()
    assert [e["to_status"] for e in events] == ["queued", "running", "succeeded"]


async def test_long_poll_returns_on_change_not_timeout(
    client: httpx.AsyncClient, auth: dict[str, str], providers: Providers
) -> None:
    accepted = (await client.post("/v1/messages", json={"text": "what is the time?"}, headers=auth)).json()
    poll = asyncio.create_task(client.get(accepted["status_url"] + "?wait=20", headers=auth))
    await asyncio.sleep(0.3)
    assert not poll.done()
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with running_worker(providers):
        task = (await poll).json()
        waited = loop.time() - started
    assert task["status"] in ("running", "succeeded")
    assert waited < 10, "the long poll should answer on the change, not at its timeout"
    quiet = await client.get(accepted["status_url"] + "?wait=0.3", headers=auth)
    assert quiet.status_code == 200


async def test_duplicate_delivery_runs_the_effect_once(providers: Providers) -> None:
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    task_id = await enqueue(providers, user, "probe", {"sleep": 0.2})
    task = await get(providers, task_id)
    for _ in range(3):  # the same doorbell rung again, as a relay or a client retry might
        await providers.streams.publish([Doorbell(task.id, task.lane, task.kind)])
    async with running_worker(providers, concurrency=8):
        done = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED})
        await asyncio.sleep(0.5)  # let the duplicates arrive and be acked
        stats = await providers.streams.lane_stats(task.lane)
    assert done.attempts == 1
    assert await count(providers, "SELECT count(*) FROM probe_runs WHERE task_id = $1", task_id) == 1
    assert await count(providers, "SELECT count(*) FROM probe_effects WHERE task_id = $1", task_id) == 1
    assert stats.pending == 0 and stats.length == 0


async def test_failing_skill_retries_with_growing_delays_then_dead_letters_then_replays(
    client: httpx.AsyncClient, providers: Providers
) -> None:
    await ensure_probe_tables(providers)
    async with providers.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO probe_switch VALUES ('sms', true) ON CONFLICT (name) DO UPDATE SET failing = true"
        )
    user = await make_user(providers)
    task_id = await enqueue(providers, user, "flaky", {"switch": "sms"})
    async with running_worker(providers), running_scheduler(providers):
        dead = await wait_for_status(providers, task_id, {TaskStatus.DEAD_LETTERED}, timeout=30)
        async with providers.pool.acquire() as conn:
            runs = await conn.fetch("SELECT at FROM probe_runs WHERE task_id = $1 ORDER BY id", task_id)
        assert dead.attempts == 4 and len(runs) == 4
        gaps = [(b["at"] - a["at"]).total_seconds() for a, b in itertools.pairwise(runs)]
        assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8, gaps  # 0.2 s doubling, no jitter
        assert gaps[0] < gaps[1] < gaps[2]
        assert dead.error is not None and dead.error["type"] == "ConnectionError"
        dlq = (await client.get("/v1/admin/dlq", headers=ADMIN)).json()["items"]
        assert str(task_id) in [d["id"] for d in dlq]  # the list is global: other tests' dead letters too
        assert await providers.streams.dlq_length() == 1
        async with providers.pool.acquire() as conn:
            await conn.execute("UPDATE probe_switch SET failing = false WHERE name = 'sms'")
        replay = await client.post(f"/v1/admin/dlq/{task_id}/replay", headers=ADMIN)
        assert replay.status_code == 202 and replay.json()["status"] == "queued"
        again = await client.post(f"/v1/admin/dlq/{task_id}/replay", headers=ADMIN)
        assert again.status_code == 404
        fixed = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED})
    assert fixed.reply == "fixed" and fixed.attempts == 1
    assert await count(providers, "SELECT count(*) FROM probe_effects WHERE task_id = $1", task_id) == 1
    assert await providers.streams.dlq_length() == 0
    remaining = (await client.get("/v1/admin/dlq", headers=ADMIN)).json()["items"]
    assert str(task_id) not in [d["id"] for d in remaining]
    async with providers.uow() as uow:
        reasons = [e.reason for e in await uow.tasks.events(task_id)]
    assert reasons.count("replayed by an operator") == 1
    assert sum(r.startswith("retry in") for r in reasons) == 3


async def test_permanent_failure_dead_letters_at_once(providers: Providers) -> None:
    user = await make_user(providers)
    task_id = await enqueue(providers, user, "refuse")
    async with running_worker(providers):
        dead = await wait_for_status(providers, task_id, {TaskStatus.DEAD_LETTERED})
    assert dead.attempts == 1
    assert dead.error == {"type": "PermanentError", "message": "the venue does not exist", "attempt": 1}


async def test_relay_publishes_what_the_api_never_published(providers: Providers) -> None:
    user = await make_user(providers)
    ids = [await enqueue(providers, user, "noop", publish=False) for _ in range(20)]
    async with running_worker(providers), running_scheduler(providers):
        for task_id in ids:
            await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED})


async def test_admin_routes_need_the_admin_token(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.get("/v1/admin/dlq")).status_code == 401
    assert (await client.get("/v1/admin/dlq", headers=auth)).status_code == 401
    bogus = await client.post("/v1/admin/dlq/00000000-0000-0000-0000-000000000000/replay", headers=ADMIN)
    assert bogus.status_code == 404
