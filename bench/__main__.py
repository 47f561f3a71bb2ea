"""`make bench`: run every benchmark, print a table, write docs/benchmarks.md.

Uses the PostgreSQL and Redis named by ERRAND_BENCH_DATABASE_URL / ERRAND_BENCH_REDIS_URL, else
this machine's 127.0.0.1:5432 / :6379 when they answer, else embedded servers. A fresh database is
created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import tempfile
import uuid
from pathlib import Path

from bench import bookings, knowledge, reminders, scenarios, speech, webhooks
from bench.env import BenchEnv, machine_facts, open_env
from bench.peers_bench import peer_rows
from bench.report import Row, render, write_markdown

ROOT = Path(__file__).resolve().parent.parent


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def service_urls() -> tuple[str | None, str | None]:
    """ERRAND_BENCH_DATABASE_URL / _REDIS_URL, else this machine's servers when they answer, else
    None (open_env starts embedded ones)."""
    db = os.environ.get("ERRAND_BENCH_DATABASE_URL") or (
        "postgresql://postgres@127.0.0.1:5432/postgres" if _answers(5432) else None
    )
    redis = os.environ.get("ERRAND_BENCH_REDIS_URL") or (
        "redis://127.0.0.1:6379/12" if _answers(6379) else None
    )
    return db, redis


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--tasks", type=int, default=int(os.environ.get("BENCH_TASKS", 30000)))
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--no-peers",
        action="store_true",
        default=os.environ.get("BENCH_PEERS", "1") == "0",
        help="skip Dramatiq, Celery and arq side by side (also BENCH_PEERS=0)",
    )
    args = parser.parse_args()
    db, redis = service_urls()
    with open_env(
        db, redis, Path(tempfile.mkdtemp(prefix="errand-bench-")), f"errand_bench_{uuid.uuid4().hex[:6]}"
    ) as env:
        rows = run_all(env, args.seconds, args.tasks, peers=not args.no_peers)
        facts = asyncio.run(machine_facts(env))
    print(render(rows, facts))
    write_markdown(Path(args.out), rows, facts)
    print(f"\nwritten to {args.out}")


def run_all(env: BenchEnv, seconds: float, tasks: int, peers: bool = True) -> list[Row]:
    rows: list[Row] = []
    rows += scenarios.parse_latency()
    rows += scenarios.api_throughput(env, seconds)
    rows += scenarios.worker_drain(env, tasks)
    if peers:  # the same no-op workload through Dramatiq, Celery and arq (bench/peers_bench.py)
        rows += peer_rows(env, tasks)
    rows += scenarios.end_to_end_latency(env, seconds)
    rows += bookings.booking_rows(env)
    rows += webhooks.webhook_rows(env)
    rows += reminders.reminder_rows(env)
    rows += speech.speech_rows(env)
    rows += knowledge.knowledge_rows(env)
    return rows


if __name__ == "__main__":
    main()
