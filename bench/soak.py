"""`make soak`: a sustained run (default 10 minutes at 200 messages/s) that shows whether memory
stays flat: RSS of the API and the worker processes, and Redis' memory, at start, middle and end.

The API, one worker (every lane) and the scheduler run as the real entry points; the load is an
open loop in its own process. Writes docs/soak.md. SOAK_SECONDS and SOAK_RATE change the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.__main__ import ROOT, service_urls
from bench.env import ADMIN, BenchEnv, http_json, machine_facts, open_env, wait_http
from bench.load import build_request
from bench.report import Row, render, verdict, write_markdown
from bench.scenarios import _in_other_process, _open
from domain.tasks import Lane
from providers.embedded import free_port

GROWTH_LIMIT = 0.15
"""Growth allowed from the first sample after warm-up to the end: allocator noise, not a leak."""


@dataclass
class Samples:
    at: list[float] = field(default_factory=list)
    api_rss: list[int] = field(default_factory=list)
    worker_rss: list[int] = field(default_factory=list)
    redis_bytes: list[int] = field(default_factory=list)
    longest_stream: list[int] = field(default_factory=list)


def rss(pid: int) -> int:
    """Resident set size in bytes, from /proc (no dependency for one number)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def sample(env: BenchEnv, api: int, worker: int, every: float, stop: threading.Event, out: Samples) -> None:
    client = redis.Redis.from_url(env.redis_url)
    streams = [f"bench:{{{lane.value}}}:stream" for lane in Lane]
    started = time.monotonic()
    try:
        while not stop.is_set():
            out.at.append(time.monotonic() - started)
            out.api_rss.append(rss(api))
            out.worker_rss.append(rss(worker))
            out.redis_bytes.append(int(client.info("memory")["used_memory"]))
            out.longest_stream.append(max(int(client.xlen(s)) for s in streams))
            stop.wait(every)
    finally:
        client.close()


def mb(value: int) -> str:
    return f"{value / 1e6:.0f} MB"


def flat(series: list[int]) -> tuple[bool, str]:
    """Flat when the end is within GROWTH_LIMIT of the first sample after warm-up (10 % in)."""
    base = series[max(1, len(series) // 10)]
    end = series[-1]
    growth = (end - base) / base if base else 0.0
    return growth <= GROWTH_LIMIT, f"{growth:+.1%} from warm-up to end"


def soak(env: BenchEnv, seconds: float, rate: float) -> list[Row]:
    env.reset()
    port = free_port()
    body = b'{"text": "hello there, how are you today?"}'
    with (
        env.process("api", ERRAND_PORT=str(port)) as api,
        env.process("workers") as worker,
        env.process("workers.scheduler"),
    ):
        wait_http(port)
        token = http_json(port, "/v1/users", {}, ADMIN)["token"]
        request = build_request("/v1/messages", body, {"Authorization": f"Bearer {token}"})
        samples, stop = Samples(), threading.Event()
        sampler = threading.Thread(
            target=sample, args=(env, api.pid, worker.pid, max(1.0, seconds / 20), stop, samples)
        )
        sampler.start()
        try:
            load = _in_other_process(_open, port, request, rate, seconds)
        finally:
            stop.set()
            sampler.join()
    streams = (
        f"; longest lane stream {max(samples.longest_stream):,} entries (end {samples.longest_stream[-1]:,})"
    )
    return [
        Row(
            f"sustained {seconds / 60:.0f} min at {rate:.0f} msg/s: accepted",
            f"{load.ok:,} of {load.sent:,}",
            note=f"errors {load.errors}; p50 {load.pct(0.5):.1f} ms, p99 {load.pct(0.99):.1f} ms",
        ),
        memory_row("API RSS", samples.api_rss),
        memory_row("worker RSS", samples.worker_rss),
        memory_row("Redis used memory", samples.redis_bytes, streams),
    ]


def memory_row(name: str, series: list[int], extra: str = "") -> Row:
    """Start / middle / end of one memory series, judged by `flat`."""
    ok, growth = flat(series)
    trio = " / ".join(mb(series[i]) for i in (0, len(series) // 2, -1))
    return Row(
        f"{name} (start / middle / end)",
        mb(series[-1]),
        f"growth <= {GROWTH_LIMIT:.0%}",
        verdict(ok),
        note=f"{trio}; {growth}{extra}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 200)))
    parser.add_argument("--out", default=str(ROOT / "docs" / "soak.md"))
    args = parser.parse_args()
    db, redis_url = service_urls()
    with open_env(
        db, redis_url, Path(tempfile.mkdtemp(prefix="errand-soak-")), f"errand_soak_{uuid.uuid4().hex[:6]}"
    ) as env:
        rows = soak(env, args.seconds, args.rate)
        facts = asyncio.run(machine_facts(env))
    print(render(rows, facts))
    write_markdown(Path(args.out), rows, facts)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
