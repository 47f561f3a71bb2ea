"""Crashes and outages with real processes and servers: nothing lost, nothing done twice."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from domain.tasks import TaskStatus
from providers.embedded import EmbeddedRedis
from providers.wiring import Providers, build_providers
from tests.conftest import Services, make_settings, new_user, running_scheduler, running_worker
from tests.e2e.procs import process
from tests.helpers import count, enqueue, ensure_probe_tables, make_user, wait_for_status


async def _wait_until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_worker_killed_mid_task_the_task_completes_once(providers: Providers, tmp_path: Path) -> None:
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    task_id = await enqueue(providers, user, "probe", {"sleep": 2.5})
    s = providers.settings

    async def started() -> bool:
        return await count(providers, "SELECT count(*) FROM probe_runs WHERE task_id = $1", task_id) >= 1

    with process(
        s, "workers", "--lanes", "booking", "--consumer", "doomed", log=tmp_path / "a.log"
    ) as doomed:
        await _wait_until(started)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    assert (await count(providers, "SELECT count(*) FROM probe_effects WHERE task_id = $1", task_id)) == 0
    with process(s, "workers", "--lanes", "booking", "--consumer", "heir", log=tmp_path / "b.log"):
        done = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=30)
    assert done.result == {"worker": "heir"}
    assert done.attempts == 2
    assert await count(providers, "SELECT count(*) FROM probe_runs WHERE task_id = $1", task_id) == 2
    assert await count(providers, "SELECT count(*) FROM probe_effects WHERE task_id = $1", task_id) == 1


async def test_sigterm_finishes_the_running_task_and_exits(providers: Providers, tmp_path: Path) -> None:
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    task_id = await enqueue(providers, user, "probe", {"sleep": 1.0})

    async def started() -> bool:
        return await count(providers, "SELECT count(*) FROM probe_runs WHERE task_id = $1", task_id) >= 1

    with process(providers.settings, "workers", "--lanes", "booking", log=tmp_path / "w.log") as worker:
        await _wait_until(started)
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 20)
    assert code == 0
    task = await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=1)
    assert task.attempts == 1
    stats = await providers.streams.lane_stats(task.lane)
    assert stats.pending == 0


async def test_two_schedulers_and_killed_workers_lose_and_double_nothing(
    providers: Providers, tmp_path: Path
) -> None:
    """200 never-published tasks, two scheduler processes relaying them, two workers of which one
    is killed twice: every task succeeds, and every effect happens exactly once."""
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    ids = [await enqueue(providers, user, "probe", {"sleep": 0.02}, publish=False) for _ in range(200)]
    s = providers.settings
    with (
        process(s, "workers.scheduler", log=tmp_path / "s1.log"),
        process(s, "workers.scheduler", log=tmp_path / "s2.log"),
        process(s, "workers", "--lanes", "booking", "--consumer", "steady", log=tmp_path / "w1.log"),
    ):
        for round_ in range(2):
            with process(
                s,
                "workers",
                "--lanes",
                "booking",
                "--consumer",
                f"victim{round_}",
                log=tmp_path / f"v{round_}.log",
            ) as victim:
                await asyncio.sleep(1.0)
                victim.send_signal(signal.SIGKILL)
                victim.wait(10)
        for task_id in ids:
            await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=60)
    effects = await count(
        providers, "SELECT count(*) FROM probe_effects WHERE task_id = ANY($1::uuid[])", ids
    )
    assert effects == 200
    doubled = await count(
        providers,
        "SELECT count(*) FROM (SELECT task_id FROM probe_effects WHERE task_id = ANY($1::uuid[]) "
        "GROUP BY task_id HAVING count(*) > 1) d",
        ids,
    )
    assert doubled == 0


@pytest.fixture
async def own_redis(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = EmbeddedRedis(tmp_path / "redis", persist=True).start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_down_while_messages_arrive(services: Services, own_redis: EmbeddedRedis) -> None:
    """Every message gets its 202 while Redis is down; once it is back, every task completes."""
    settings = make_settings(services, redis_url=own_redis.url, redis_timeout_seconds=0.3)
    providers = await build_providers(settings)
    app = create_app(settings, providers)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            auth = await new_user(client)
            async with running_worker(providers), running_scheduler(providers):
                before = [await _post(client, auth, f"hello {n}") for n in range(5)]
                own_redis.stop()
                during = [await _post(client, auth, f"hi again {n}") for n in range(20)]
                ready = await client.get("/readyz")
                assert ready.status_code == 503 and "redis" in ready.json()["detail"]
                own_redis.start()
                for task_id in before + during:
                    await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=30)
    finally:
        await providers.aclose()


async def _post(client: httpx.AsyncClient, auth: dict[str, str], text: str) -> uuid.UUID:
    response = await client.post("/v1/messages", json={"text": text}, headers=auth)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["task_id"])
