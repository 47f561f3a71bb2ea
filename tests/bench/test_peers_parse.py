"""The pure helpers of the peers benchmark (bench/peers_bench.py, bench/peers/_probe.py)."""

from __future__ import annotations

from bench.peers._probe import parse_config
from bench.peers_bench import PEERS, Drain, Latency, _db_url, percentile


def test_parse_config() -> None:
    assert parse_config("pool=threads, concurrency=8,prefetch=16") == {
        "pool": "threads",
        "concurrency": "8",
        "prefetch": "16",
    }
    assert parse_config("") == {}


def test_each_peer_has_its_own_database() -> None:
    assert len({p.db for p in PEERS}) == len(PEERS)
    assert _db_url("redis://127.0.0.1:6379/12", 13) == "redis://127.0.0.1:6379/13"
    assert _db_url("redis://:secret@host:6380", 14) == "redis://:secret@host:6380/14"


def test_figures() -> None:
    assert percentile([], 0.5) != percentile([], 0.5)  # nan
    ordered = [i / 1000 for i in range(100)]
    assert percentile(ordered, 0.5) == 0.05
    assert percentile(ordered, 0.99) == 0.099
    assert Latency(ordered, 500.0, 0).pct(0.5) == 50.0
    assert Drain(3000, 1.5).rate == 2000.0
    assert Drain(0, 0.0).rate == 0.0
