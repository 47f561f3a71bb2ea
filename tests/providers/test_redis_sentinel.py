"""Errand behind Redis Sentinel: masters, a replica and sentinels started here from redis-server; the
client finds the master through the sentinel, the pipeline runs unchanged, and after the master is
killed it follows the promoted replica."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis

from domain.tasks import Lane, TaskStatus
from providers.embedded import free_port, redis_server_binary
from providers.wiring import Providers, build_providers
from tests.conftest import Services, make_settings, running_worker
from tests.helpers import enqueue, ensure_probe_tables, make_user, pipeline_round_trip, wait_for_status


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
    await pipeline_round_trip(providers)
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


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[tuple[int, int, int, subprocess.Popen[bytes]]]:
    """A master, its replica and a sentinel that fails over within seconds; yields (sentinel port,
    master port, replica port, the master's process) so that a test can kill the master."""
    binary = redis_server_binary()
    master_port, replica_port, sentinel_port = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    master = _serve([binary, "--port", str(master_port), "--dir", str(tmp_path), *common], master_port)
    replica_dir = tmp_path / "replica"
    replica_dir.mkdir()
    follow = ["--replicaof", "127.0.0.1", str(master_port)]
    replica = _serve(
        [binary, "--port", str(replica_port), "--dir", str(replica_dir), *common, *follow], replica_port
    )
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor errand-main 127.0.0.1 {master_port} 1\n"
        "sentinel down-after-milliseconds errand-main 1000\n"
        "sentinel failover-timeout errand-main 5000\n"
    )
    watcher = _serve([binary, str(conf), "--sentinel"], sentinel_port)
    try:
        _wait_until(lambda: _sentinel_knows_replica(sentinel_port), "the sentinel never saw the replica")
        yield sentinel_port, master_port, replica_port, master
    finally:
        for proc in (watcher, replica, master):
            proc.kill()
            proc.wait(10)


def _wait_until(check: Callable[[], bool], failure: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, failure
        time.sleep(0.1)


def _sentinel_knows_replica(sentinel_port: int) -> bool:
    with redis.Redis(host="127.0.0.1", port=sentinel_port, decode_responses=True) as client:
        replicas = client.execute_command("SENTINEL", "REPLICAS", "errand-main")
        return bool(replicas) and all("s_down" not in str(r) for r in replicas)


def _master_port(sentinel_port: int) -> int:
    with redis.Redis(host="127.0.0.1", port=sentinel_port, decode_responses=True) as client:
        _, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "errand-main")
        return int(port)


async def test_a_failover_loses_nothing_and_the_running_worker_follows_the_new_master(
    services: Services, replicated: tuple[int, int, int, subprocess.Popen[bytes]]
) -> None:
    """The master is SIGKILLed while a worker is blocked reading from it: the sentinel promotes
    the replica, and the same providers and worker carry on against it without a restart."""
    sentinel_port, master_port, replica_port, master = replicated
    settings = make_settings(
        services,
        redis_url="redis://ignored-host:1/0",
        redis_sentinels=[f"127.0.0.1:{sentinel_port}"],
        redis_sentinel_master="errand-main",
    )
    providers = await build_providers(settings)
    try:
        await ensure_probe_tables(providers)
        user = await make_user(providers)
        async with running_worker(providers):
            before = [await enqueue(providers, user, "probe", {}) for _ in range(3)]
            for task_id in before:
                await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=30)

            master.kill()
            master.wait(10)
            await asyncio.to_thread(
                _wait_until, lambda: _master_port(sentinel_port) == replica_port, "no failover happened"
            )
            assert _master_port(sentinel_port) != master_port

            after = []
            for _ in range(3):
                after.append(await _enqueue_when_reachable(providers, user))
            for task_id in after:
                await wait_for_status(providers, task_id, {TaskStatus.SUCCEEDED}, timeout=60)
        role = await providers.redis.execute_command("ROLE")
        assert role[0] in (b"master", "master")  # the client now talks to the promoted replica
        assert (await providers.streams.lane_stats(Lane.BOOKING)).pending == 0
    finally:
        await providers.aclose()


async def _enqueue_when_reachable(providers: Providers, user: uuid.UUID) -> uuid.UUID:
    """Enqueue once the client reaches the new master: the first commands after a failover may
    meet a closed connection, as any client's would (the API hands those to the outbox relay)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            await providers.redis.ping()
            return await enqueue(providers, user, "probe", {})
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            assert time.monotonic() < deadline, "the new master never became reachable"
            await asyncio.sleep(0.2)
