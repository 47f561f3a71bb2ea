"""Errand on a Redis Cluster: three redis-server nodes started here, lanes on different slots, the
pipeline (API accept, stream, worker, status, long-poll) working unchanged."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from domain.tasks import Lane
from providers.embedded import free_port, redis_server_binary
from providers.wiring import Providers, build_providers
from tests.conftest import Services, make_settings
from tests.helpers import pipeline_round_trip

SLOTS = 16384


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """Three masters, a third of the slots each, joined by CLUSTER MEET."""
    tmp = Path(tmp_path_factory.mktemp("cluster"))
    nodes = [_node(tmp) for _ in range(3)]
    try:
        clients = [client for _, _, client in nodes]
        bounds = [0, SLOTS // 3, 2 * SLOTS // 3, SLOTS]
        for n, client in enumerate(clients):
            client.execute_command("CLUSTER", "ADDSLOTS", *range(bounds[n], bounds[n + 1]))
        for port, _, _ in nodes[1:]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        deadline = time.monotonic() + 30
        while not all(b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO") for c in clients):
            assert time.monotonic() < deadline, "the cluster did not form"
            time.sleep(0.1)
        for client in clients:
            client.close()
        yield [port for port, _, _ in nodes]
    finally:
        for _, proc, _ in nodes:
            proc.kill()
            proc.wait(10)


def _node(tmp: Path) -> tuple[int, subprocess.Popen[bytes], redis.Redis]:
    """A cluster-enabled redis-server on a free port (another port if that one was taken meanwhile)."""
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(tmp),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            client = redis.Redis(host="127.0.0.1", port=port)
            try:
                client.ping()
                return port, proc, client
            except redis.ConnectionError:
                client.close()
                time.sleep(0.05)
        proc.kill()
        proc.wait(10)
    raise RuntimeError("could not start a cluster node")


@pytest.fixture
async def cluster_providers(services: Services, cluster: list[int]) -> AsyncIterator[Providers]:
    settings = make_settings(services, redis_url=f"redis://127.0.0.1:{cluster[1]}/0", redis_cluster=True)
    built = await build_providers(settings)
    try:
        yield built
    finally:
        await built.aclose()


def test_lanes_live_on_different_slots() -> None:
    from redis.crc import key_slot

    from providers.redis_streams import StreamKeys

    keys = StreamKeys("errand")
    slots = {key_slot(keys.stream(lane).encode()) for lane in Lane}
    assert len(slots) == len(Lane)


async def test_the_pipeline_runs_unchanged_on_a_cluster(cluster_providers: Providers) -> None:
    answered = await pipeline_round_trip(cluster_providers)
    assert answered["reply"]
    for lane in (Lane.BOOKING, Lane.ANSWER):
        stats = await cluster_providers.streams.lane_stats(lane)
        assert stats.pending == 0
    assert uuid.UUID(answered["id"])
