"""`make bench`, peers section: the same no-op workload through Dramatiq, Celery and arq beside
Errand's pipeline, one worker process each, one system at a time.

Each peer runs in a virtualenv of its own under .bench-venvs/ (created on first use: arq pins an old
redis-py), through its script in bench/peers/, on a Redis database of its own (13, 14, 15 of the
bench Redis server), flushed before every run. The method is the same for every system:

* drained tasks/s: N no-op tasks are enqueued before the one worker process starts; the rate is N
  over the time from the first task's start to the last task's end, as recorded by the worker (a
  peer's task counts itself in the worker's memory and the process writes the figures to Redis once
  the N-th has run; Errand: the first `running` event to the last `succeeded` event in task_events).
* latency: with the worker running and warmed up (50 tasks run first), tasks are offered at a fixed
  rate; each task's start minus the enqueue time it carries (Errand: the task row's created_at to
  its `running` event, the claim that starts it).

Each peer's configurations are tried on a smaller backlog and the best is measured on the full one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import redis
import redis.asyncio as aioredis

from bench.env import BenchEnv
from bench.report import Row, verdict
from bench.scenarios import _drain_figures, _seed_noop_tasks, _wait_for_consumer

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / "bench" / "peers"
VENVS = ROOT / ".bench-venvs"
RESULT_KEY = "errand-peer:result"  # as in bench/peers/_probe.py
STREAM = "bench:{answer}:stream"
ERRAND_WORKER = ("workers", "--lanes", "answer", "--concurrency", "512")
RATE, SECONDS, WARM = 500.0, 5.0, 50


@dataclass(frozen=True)
class Peer:
    name: str
    label: str
    requirements: tuple[str, ...]
    db: int
    configs: tuple[str, ...]
    """Tried on the smaller backlog; the fastest is measured."""
    setup: str
    """What every configuration shares, for the row note."""


PEERS = (
    Peer(
        "dramatiq",
        "Dramatiq 2.2.1",
        ("dramatiq[redis]==2.2.1", "hiredis==3.5.0"),
        13,
        ("threads=1", "threads=8", "threads=16", "threads=8,prefetch=64"),
        "dramatiq CLI --processes 1, default middleware, hiredis",
    ),
    Peer(
        "celery",
        "Celery 5.7.0",
        ("celery[redis]==5.7.0", "hiredis==3.5.0"),
        14,
        ("pool=solo", "pool=solo,prefetch=64", "pool=threads,concurrency=8,prefetch=16"),
        "celery worker, results ignored, no heartbeat/gossip/mingle, WARNING logs, hiredis",
    ),
    Peer(
        "arq",
        "arq 0.28.0",
        ("arq==0.28.0", "uvloop==0.23.0"),
        15,
        ("max_jobs=100,poll=0.01", "max_jobs=500,poll=0.01", "max_jobs=100,poll=0.001"),
        "arq Worker on uvloop, keep_result=0, no per-job log lines, hiredis",
    ),
)


@dataclass(frozen=True)
class Drain:
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Latency:
    lags: list[float]
    """Seconds, sorted."""
    offered: float
    """The rate the producer achieved, tasks/s."""
    missing: int

    def pct(self, q: float) -> float:
        return percentile(self.lags, q) * 1000


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peer_rows(env: BenchEnv, tasks: int) -> list[Row]:
    trial = max(1000, min(tasks // 5, 5000))
    errand = _errand_drain(env, tasks)
    errand_lat, errand_xadd = _errand_latency(env)
    _progress(f"errand: {errand.rate:,.0f} tasks/s; p50 {errand_lat.pct(0.5):.1f} ms")
    rows = [
        Row(
            "peers: Errand, one worker process (durable status)",
            f"{errand.rate:,.0f} tasks/s",
            note=f"{_latency_note(errand_lat)}, from the task row's insert (its commit included); "
            f"from its XADD p50 {errand_xadd.pct(0.5):.1f} ms, p99 {errand_xadd.pct(0.99):.1f} ms; "
            f"{errand.count:,}/{tasks:,} tasks; `python -m workers --lanes answer --concurrency 512`: "
            "claim, status and 2 events per task in PostgreSQL",
        )
    ]
    best: tuple[float, str] = (0.0, "none")
    for peer in PEERS:
        try:
            row, rate = _peer_row(env, peer, tasks, trial)
        except (OSError, RuntimeError, subprocess.SubprocessError, redis.RedisError, ValueError) as exc:
            # a peer that cannot be installed or run leaves its row, not the whole benchmark
            row, rate = Row(f"peers: {peer.label}, one worker process", "failed", note=repr(exc)[:300]), 0.0
        rows.append(row)
        best = max(best, (rate, peer.label))
    ratio = errand.rate / best[0] if best[0] else float("inf")
    rows.append(
        Row(
            "errand / best peer (drained tasks/s)",
            f"{ratio:.2f}x",
            ">= 1.0x (goal 1.5x)",
            verdict(ratio >= 1.0 and errand.count == tasks),
            note=f"best peer {best[1]}; goal 1.5x {verdict(ratio >= 1.5)}. Same method for every "
            f"system, one after another: {tasks:,} no-op tasks enqueued before the one worker process "
            "starts, rate = tasks / (first task start -> last task end) as the worker records it; "
            f"latency = task start - its enqueue time, {RATE:.0f} tasks/s offered for {SECONDS:.0f} s "
            f"to a running, warmed-up worker; each peer's configurations tried on {trial:,} tasks, "
            "the fastest measured; peers in their own virtualenvs (.bench-venvs/), Redis DB 13-15, "
            "flushed before each run",
        )
    )
    return rows


def _peer_row(env: BenchEnv, peer: Peer, tasks: int, trial: int) -> tuple[Row, float]:
    python = ensure_venv(peer, env.tmp)
    url = _db_url(env.redis_url, peer.db)
    tried: list[tuple[float, str]] = []
    for config in peer.configs:
        run = _peer_drain(env, peer, python, url, config, trial)
        _progress(f"{peer.name} {config}: {run.rate:,.0f} tasks/s ({run.count:,}/{trial:,} tasks)")
        tried.append((run.rate, config))
    config = max(tried)[1]
    drain = _peer_drain(env, peer, python, url, config, tasks)
    lat = _peer_latency(env, peer, python, url, config)
    _progress(f"{peer.name} {config}: {drain.rate:,.0f} tasks/s; p50 {lat.pct(0.5):.1f} ms")
    trials = ", ".join(f"{c} {r:,.0f}/s" for r, c in tried)
    return (
        Row(
            f"peers: {peer.label}, one worker process",
            f"{drain.rate:,.0f} tasks/s",
            note=f"{_latency_note(lat)}; {drain.count:,}/{tasks:,} tasks; best configuration {config} "
            f"({peer.setup}); tried on {trial:,} tasks: {trials}",
        ),
        drain.rate,
    )


def _latency_note(lat: Latency) -> str:
    return (
        f"enqueue->start p50 {lat.pct(0.5):.1f} ms, p99 {lat.pct(0.99):.1f} ms "
        f"({len(lat.lags):,} tasks at {lat.offered:,.0f}/s"
        + (f", {lat.missing} not run" if lat.missing else "")
        + ")"
    )


def _progress(text: str) -> None:
    print(f"peers: {text}", file=sys.stderr, flush=True)


# --- the peers ---------------------------------------------------------------------------------


def ensure_venv(peer: Peer, logs: Path) -> Path:
    """The peer's virtualenv with its pinned packages, created or brought up to date on demand."""
    venv = VENVS / peer.name
    python = venv / "bin" / "python"
    stamp = venv / ".errand-requirements"
    wanted = "\n".join(peer.requirements)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    _progress(f"creating {venv.relative_to(ROOT)} ({' '.join(peer.requirements)}); first run only")
    base = shutil.which("python3.11") or sys.executable
    with open(logs / f"venv-{peer.name}.log", "ab") as log:
        if not python.exists():
            subprocess.run([base, "-m", "venv", str(venv)], check=True, stdout=log, stderr=log)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run(
            [*pip, *peer.requirements],
            check=True,
            stdout=log,
            stderr=log,
        )
    stamp.write_text(wanted)
    return python


def _db_url(url: str, db: int) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{db}"))


def _peer_env(env: BenchEnv, url: str, expect: int, warm: int = 0) -> dict[str, str]:
    values = env.env(PYTHONPATH=str(PEERS_DIR), PEER_REDIS_URL=url)
    values.update(PEER_EXPECT=str(expect), PEER_WARM=str(warm))
    values.pop("VIRTUAL_ENV", None)
    return values


def _driver(python: Path, peer: Peer, args: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run the peer script's enqueue or offer command; its last line of output is JSON figures."""
    done = subprocess.run(
        [str(python), str(PEERS_DIR / f"{peer.name}_peer.py"), *args],
        cwd=PEERS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{peer.name} {args[0]} failed: {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


@contextlib.contextmanager
def _peer_worker(
    python: Path, peer: Peer, config: str, env: BenchEnv, values: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    log = open(env.tmp / f"peer-{peer.name}-{time.monotonic_ns()}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(python), str(PEERS_DIR / f"{peer.name}_peer.py"), "worker", config],
        cwd=PEERS_DIR,
        env=values,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _wait_result(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    """The figures the worker writes once it has run every task; None if it died or timed out."""
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            raw = client.get(RESULT_KEY)
            if raw is not None:
                result: dict[str, Any] = json.loads(raw)
                return result
            time.sleep(0.2)
        return None
    finally:
        client.close()


def _peer_drain(env: BenchEnv, peer: Peer, python: Path, url: str, config: str, count: int) -> Drain:
    _flush(url)
    values = _peer_env(env, url, count)
    _driver(python, peer, ["enqueue", str(count)], values, timeout=300)
    with _peer_worker(python, peer, config, env, values) as proc:
        result = _wait_result(url, 60 + count / 200, proc)
    _flush(url)
    if result is None:
        return Drain(0, 0.0)
    return Drain(int(result["count"]), float(result["last"]) - float(result["first"]))


def _peer_latency(env: BenchEnv, peer: Peer, python: Path, url: str, config: str) -> Latency:
    _flush(url)
    total = int(RATE * SECONDS)
    values = _peer_env(env, url, total, WARM)
    with _peer_worker(python, peer, config, env, values) as proc:
        sent = _driver(python, peer, ["offer", str(RATE), str(SECONDS), str(WARM)], values, timeout=120)
        result = _wait_result(url, 30, proc)
    _flush(url)
    offered = float(sent["sent"]) / float(sent["seconds"])
    if result is None:
        return Latency([], offered, total)
    return Latency(sorted(float(x) for x in result["lags"]), offered, total - int(result["count"]))


# --- Errand ------------------------------------------------------------------------------------


def _errand_drain(env: BenchEnv, count: int) -> Drain:
    """As bench.scenarios.worker_drain: the backlog in PostgreSQL and the stream, then the worker."""
    env.reset()
    asyncio.run(_seed_noop_tasks(env, count))
    with env.process(*ERRAND_WORKER):
        done, span = asyncio.run(_drain_figures(env, count, timeout=300))
    return Drain(done, span)


_INSERT = """INSERT INTO tasks (id, user_id, conversation_id, kind, lane, intent, status, max_attempts,
                                publish_after, published_at)
             VALUES (gen_random_uuid(), $1, $2, 'noop', 'answer', $3, 'queued', 3,
                     now() + interval '1 hour', now()) RETURNING id"""


async def _offer_errand(database_url: str, redis_url: str) -> tuple[float, dict[str, float]]:
    """What the API does per message, without HTTP: the task row (committed), then its stream
    entry. Warm-up tasks (intent 'warm') first, until they have succeeded; then RATE tasks/s, each
    send on its own (open loop), since a commit waits for the disk. Returns the seconds it took and
    each task's time just before its XADD."""
    pool = await asyncpg.create_pool(database_url, min_size=4, max_size=32)
    client = aioredis.Redis.from_url(redis_url)
    user, conv = "00000000-0000-7000-8000-000000000001", "00000000-0000-7000-8000-000000000002"
    await pool.execute("INSERT INTO users (id, token_hash) VALUES ($1, 'x')", user)
    await pool.execute("INSERT INTO conversations (id, user_id) VALUES ($1, $2)", conv, user)
    xadds: dict[str, float] = {}

    async def send(intent: str) -> None:
        task_id = str(await pool.fetchval(_INSERT, user, conv, intent))
        xadds[task_id] = time.time()
        await client.xadd(STREAM, {"task_id": task_id, "kind": "noop"})

    await asyncio.gather(*(send("warm") for _ in range(WARM)))
    deadline = time.monotonic() + 60
    while await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'succeeded'") < WARM:
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not run the warm-up tasks")
        await asyncio.sleep(0.05)
    xadds.clear()
    jobs = []
    start = time.perf_counter()
    for n in range(int(RATE * SECONDS)):
        delay = start + n / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        jobs.append(asyncio.create_task(send("none")))
    await asyncio.gather(*jobs)
    elapsed = time.perf_counter() - start
    await pool.close()
    await client.aclose()
    return elapsed, xadds


def _offer_errand_sync(database_url: str, redis_url: str) -> tuple[float, dict[str, float]]:
    return asyncio.run(_offer_errand(database_url, redis_url))


async def _errand_starts(env: BenchEnv, total: int) -> list[tuple[str, float, float]]:
    """(task id, created_at, its `running` event) of the timed tasks, once they have all succeeded."""
    conn = await asyncpg.connect(env.database_url)
    deadline = time.monotonic() + 30
    query = "SELECT count(*) FROM tasks WHERE intent = 'none' AND status = 'succeeded'"
    while time.monotonic() < deadline:
        if await conn.fetchval(query) >= total:
            break
        await asyncio.sleep(0.2)
    rows = await conn.fetch(
        """SELECT t.id, extract(epoch FROM t.created_at) AS created, extract(epoch FROM e.at) AS started
           FROM tasks t JOIN task_events e ON e.task_id = t.id AND e.to_status = 'running'
           WHERE t.intent = 'none' AND e.attempt = 1"""
    )
    await conn.close()
    return [(str(r["id"]), float(r["created"]), float(r["started"])) for r in rows]


def _errand_latency(env: BenchEnv) -> tuple[Latency, Latency]:
    """From the task row's creation, and from its XADD (as a peer's enqueue), to its claim."""
    env.reset()
    with env.process(*ERRAND_WORKER):
        _wait_for_consumer(env, STREAM)
        with ProcessPoolExecutor(max_workers=1) as pool:  # the producer has a process of its own
            elapsed, xadds = pool.submit(_offer_errand_sync, env.database_url, env.redis_url).result()
        starts = asyncio.run(_errand_starts(env, len(xadds)))
    offered, missing = len(xadds) / elapsed, len(xadds) - len(starts)
    created = Latency(sorted(started - made for _, made, started in starts), offered, missing)
    streamed = Latency(sorted(started - xadds[tid] for tid, _, started in starts), offered, missing)
    return created, streamed
