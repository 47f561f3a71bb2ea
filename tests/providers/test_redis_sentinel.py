"""Errand behind Redis Sentinel: a master and a sentinel started here from redis-server; the client
finds the master through the sentinel and the pipeline runs unchanged."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from api.app import create_app
from domain.tasks import Lane, TaskStatus
from providers.embedded import free_port, redis_server_binary
from providers.wiring import Providers, build_providers
from tests.conftest import Services, make_settings, new_user, running_worker
from tests.helpers import enqueue, ensure_probe_tables, make_user, wait_for_status


def _serve(args: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while proc.poll() is None:
        client = redis.Redis(host="127.0.0.1", port=port)
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis did not start"
            time.sleep(0.05)
        finally:
            client.close()
    raise AssertionError(f"{args[0]} exited with {proc.returncode}")


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A master and one sentinel watching it (quorum 1); yields the sentinel's port."""
    tmp = Path(tmp_path_factory.mktemp("sentinel"))
    master_port, sentinel_port = free_port(), free_port()
    binary = redis_server_binary()
    master = _serve(
        [binary, "--port", str(master_port), "--bind", "127.0.0.1", "--dir", str(tmp), "--save", ""],
        master_port,
    )
    conf = tmp / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp}\n"
        f"sentinel monitor errand-main 127.0.0.1 {master_port} 1\n"
        "sentinel down-after-milliseconds errand-main 5000\n"
    )
    watcher = _serve([binary, str(conf), "--sentinel"], sentinel_port)
    try:
        yield sentinel_port
    finally:
        for proc in (watcher, master):
            proc.kill()
            proc.wait(10)


@pytest.fixture
async def sentinel_providers(services: Services, sentinel: int) -> AsyncIterator[Providers]:
    settings = make_settings(
        services,
        redis_url="redis://ignored-host:1/3",  # only the database index is taken from it
        redis_sentinels=[f"127.0.0.1:{sentinel}"],
        redis_sentinel_master="errand-main",
    )
    built = await build_providers(settings)
    try:
        yield built
    finally:
        await built.aclose()


async def test_the_pipeline_runs_behind_a_sentinel(sentinel_providers: Providers) -> None:
    providers = sentinel_providers
    await ensure_probe_tables(providers)
    user = await make_user(providers)
    ids = [await enqueue(providers, user, "probe", {}) for _ in range(3)]
    app = create_app(providers.settings, providers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
            auth = await new_user(http)
            posted = await http.post("/v1/messages", json={"text": "hello there"}, headers=auth)
            assert posted.status_code == 202, posted.text
            async with running_worker(providers):
                for task_id in ids:
                    await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=30)
                answered = await http.get(f"{posted.json()['status_url']}?wait=10", headers=auth)
                while answered.json()["status"] != "succeeded":
                    answered = await http.get(f"{posted.json()['status_url']}?wait=10", headers=auth)
    stats = await providers.streams.lane_stats(Lane.BOOKING)
    assert stats.pending == 0
    info = await providers.redis.info("keyspace")
    assert "db3" in info  # the database index of ERRAND_REDIS_URL was used on the master


async def test_closing_the_providers_closes_the_sentinel_connections(sentinel_providers: Providers) -> None:
    assert await sentinel_providers.redis.ping()
    watchers = sentinel_providers.redis.watchers  # type: ignore[attr-defined]
    await sentinel_providers.redis.aclose()
    pools = [client.connection_pool for client in watchers.sentinels]
    assert pools and not any(
        connection.is_connected for pool in pools for connection in pool._available_connections
    )
