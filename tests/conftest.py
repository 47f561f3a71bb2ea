"""Real PostgreSQL and Redis for every test: the servers named by ERRAND_TEST_DATABASE_URL and
ERRAND_TEST_REDIS_URL, or embedded ones started here. Each session gets its own database; each test
its own Redis key prefix and its own users, so tests never see each other's data."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from api.app import create_app
from ops.migrate import upgrade
from providers.embedded import EmbeddedPostgres, EmbeddedRedis
from providers.settings import Settings
from providers.wiring import Providers, build_providers
from workers.scheduler import Scheduler
from workers.worker import Worker, WorkerConfig

ADMIN_TOKEN = "test-admin-token"
TEST_DATA_DIR = Path(tempfile.gettempdir()) / f"errand-test-data-{os.getpid()}"


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    admin_database_url: str


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    tmp = Path(tempfile.mkdtemp(prefix="errand-test-"))
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    admin_url = os.environ.get("ERRAND_TEST_DATABASE_URL")
    if not admin_url:
        pg = EmbeddedPostgres(tmp / "postgres").start()
        started.append(pg)
        admin_url = pg.url
    redis_url = os.environ.get("ERRAND_TEST_REDIS_URL")
    if not redis_url:
        server = EmbeddedRedis(tmp / "redis", persist=False).start()
        started.append(server)
        redis_url = server.url
    name = f"errand_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_create_database(admin_url, name))
    database_url = _with_database(admin_url, name)
    upgrade(database_url)
    try:
        yield Services(database_url, redis_url, admin_url)
    finally:
        asyncio.run(_drop_database(admin_url, name))
        for server in reversed(started):
            server.stop()


def make_settings(services: Services, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": services.database_url,
        "redis_url": services.redis_url,
        "redis_prefix": f"errand-test-{uuid.uuid4().hex[:10]}",
        "admin_token": ADMIN_TOKEN,
        "log_json": False,
        "relay_interval_seconds": 0.05,
        "visibility_timeout_seconds": 1.0,
        "reclaim_interval_seconds": 0.2,
        "lease_grace_seconds": 0.2,
        "lease_margin_seconds": 0.5,
        "shutdown_grace_seconds": 5.0,
        "worker_block_ms": 200,
        "db_pool_min": 1,
        "db_pool_max": 10,
        "extra_skills": ["tests.skills"],
        "data_dir": TEST_DATA_DIR,  # never the checkout's .data (the local vector store lives there)
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(services)


async def _delete_prefix(redis_url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def providers(settings: Settings) -> AsyncIterator[Providers]:
    built = await build_providers(settings)
    try:
        yield built
    finally:
        await built.aclose()
        with contextlib.suppress(Exception):
            await _delete_prefix(settings.redis_url, settings.redis_prefix)


@pytest.fixture
async def client(settings: Settings, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, providers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            yield http


async def new_user(client: httpx.AsyncClient, timezone: str = "UTC") -> dict[str, str]:
    """Authorization headers of a fresh user."""
    response = await client.post(
        "/v1/users", json={"timezone": timezone}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    return await new_user(client)


@contextlib.asynccontextmanager
async def running_worker(
    providers: Providers, consumer: str = "w1", concurrency: int = 16
) -> AsyncIterator[Worker]:
    """An in-process worker on every lane, stopped gracefully on exit."""
    s = providers.settings
    config = WorkerConfig(
        lanes=sorted(providers.registry.lanes() | {lane for lane in _all_lanes()}),
        consumer=consumer,
        concurrency=concurrency,
        block_ms=s.worker_block_ms,
        visibility_ms=int(s.visibility_timeout_seconds * 1000),
        reclaim_interval=s.reclaim_interval_seconds,
        shutdown_grace=s.shutdown_grace_seconds,
        lease_margin=s.lease_margin_seconds,
    )
    worker = Worker.for_providers(config, providers)
    stop = asyncio.Event()
    job = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(job, 15)


@contextlib.asynccontextmanager
async def running_scheduler(providers: Providers) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler(providers.settings, relay=providers.relay, streams=providers.streams)
    stop = asyncio.Event()
    job = asyncio.create_task(scheduler.run(stop))
    try:
        yield scheduler
    finally:
        stop.set()
        await asyncio.wait_for(job, 10)


def _all_lanes() -> list[object]:
    from domain.tasks import Lane

    return list(Lane)
