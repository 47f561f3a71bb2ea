"""The benchmark scenarios of the core: API intake, worker drain rate, end-to-end latency."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ProcessPoolExecutor

import asyncpg
import redis

from bench.env import ADMIN, BenchEnv, http_json
from bench.load import LoadResult, build_request, closed_loop, open_loop
from bench.report import Row, verdict


def _closed(port: int, request: bytes, concurrency: int, seconds: float) -> LoadResult:
    return asyncio.run(closed_loop(port, request, concurrency, seconds))


def _open(port: int, request: bytes, rate: float, seconds: float) -> LoadResult:
    return asyncio.run(open_loop(port, request, rate, seconds))


def _in_other_process(fn, *args):  # type: ignore[no-untyped-def]
    """The load generator runs in its own process, so it does not share the server's interpreter."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def api_throughput(env: BenchEnv, seconds: float) -> list[Row]:
    env.reset()
    body = b'{"text": "hello there, how are you today?"}'
    with env.server("api") as api_port, env.server("bench.baseline") as base_port:
        token = http_json(api_port, "/v1/users", {}, ADMIN)["token"]
        errand_req = build_request("/v1/messages", body, {"Authorization": f"Bearer {token}"})
        base_req = build_request("/v1/messages", body, {})
        for port, req in ((base_port, base_req), (api_port, errand_req)):
            _in_other_process(_closed, port, req, 16, 2.0)  # warm-up
        best: dict[str, LoadResult] = {}
        for _ in range(2):  # alternate, keep each side's best run
            for name, port, req in (("baseline", base_port, base_req), ("errand", api_port, errand_req)):
                run = _in_other_process(_closed, port, req, 32, seconds)
                if name not in best or run.rps > best[name].rps:
                    best[name] = run
        at_200 = _in_other_process(_open, api_port, errand_req, 200.0, seconds)
        base_200 = _in_other_process(_open, base_port, base_req, 200.0, seconds)
    ratio = best["errand"].rps / best["baseline"].rps
    e, b = best["errand"], best["baseline"]
    return [
        Row(
            "POST /v1/messages, baseline (closed loop, 32 conns)",
            f"{b.rps:,.0f} req/s",
            note=f"p50 {b.pct(0.5):.1f} ms, p99 {b.pct(0.99):.1f} ms; FastAPI + INSERT + XADD, no auth/parse",
        ),
        Row(
            "POST /v1/messages, errand (closed loop, 32 conns)",
            f"{e.rps:,.0f} req/s",
            note=f"p50 {e.pct(0.5):.1f} ms, p99 {e.pct(0.99):.1f} ms; errors {e.errors}",
        ),
        Row("errand / baseline throughput", f"{ratio:.2f}x", ">= 0.7x", verdict(ratio >= 0.7)),
        Row(
            "POST /v1/messages p99 at 200 req/s (open loop)",
            f"{at_200.pct(0.99):.1f} ms",
            "<= 25 ms",
            verdict(at_200.pct(0.99) <= 25 and at_200.errors == 0),
            note=f"p50 {at_200.pct(0.5):.1f} ms; baseline p99 {base_200.pct(0.99):.1f} ms; "
            f"errors {at_200.errors}",
        ),
    ]


async def _seed_noop_tasks(env: BenchEnv, count: int) -> None:
    conn = await asyncpg.connect(env.database_url)
    user, conv = "00000000-0000-7000-8000-000000000001", "00000000-0000-7000-8000-000000000002"
    await conn.execute("INSERT INTO users (id, token_hash) VALUES ($1, 'x')", user)
    await conn.execute("INSERT INTO conversations (id, user_id) VALUES ($1, $2)", conv, user)
    rows = await conn.fetch(
        """INSERT INTO tasks (id, user_id, conversation_id, kind, lane, intent, status, max_attempts,
                              publish_after, published_at)
           SELECT gen_random_uuid(), $1, $2, 'noop', 'answer', 'none', 'queued', 3,
                  now() + interval '1 hour', now()
           FROM generate_series(1, $3) RETURNING id""",
        user,
        conv,
        count,
    )
    await conn.close()
    client = redis.Redis.from_url(env.redis_url)
    for start in range(0, len(rows), 2000):
        pipe = client.pipeline(transaction=False)
        for row in rows[start : start + 2000]:
            pipe.xadd("bench:{answer}:stream", {"task_id": str(row["id"]), "kind": "noop"})
        pipe.execute()
    client.close()


async def _drain_figures(env: BenchEnv, count: int, timeout: float) -> tuple[int, float]:
    conn = await asyncpg.connect(env.database_url)
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = await conn.fetchval("SELECT count(*) FROM tasks WHERE status = 'succeeded'")
        if done >= count:
            break
        await asyncio.sleep(0.2)
    span = await conn.fetchval(
        """SELECT extract(epoch FROM max(at) FILTER (WHERE to_status = 'succeeded')
                              - min(at) FILTER (WHERE to_status = 'running')) FROM task_events"""
    )
    await conn.close()
    return done, float(span or 0)


def worker_drain(env: BenchEnv, count: int) -> list[Row]:
    env.reset()
    asyncio.run(_seed_noop_tasks(env, count))
    with env.process("workers", "--lanes", "answer", "--concurrency", "512"):
        done, span = asyncio.run(_drain_figures(env, count, timeout=300))
    rate = done / span if span else 0.0
    return [
        Row(
            "tasks/s drained by one worker process (no-op skill)",
            f"{rate:,.0f} tasks/s",
            ">= 2,500",
            verdict(rate >= 2500 and done == count),
            note=f"{done:,}/{count:,} tasks, first claim to last success in {span:.2f} s; "
            "every task claimed and completed durably (status + 2 events per task)",
        ),
    ]


async def _latencies(env: BenchEnv) -> tuple[list[float], int]:
    conn = await asyncpg.connect(env.database_url)
    rows = await conn.fetch(
        """SELECT extract(epoch FROM e.at - t.created_at) AS s FROM tasks t
           JOIN task_events e ON e.task_id = t.id AND e.to_status = 'succeeded'"""
    )
    pending = await conn.fetchval("SELECT count(*) FROM tasks WHERE status <> 'succeeded'")
    await conn.close()
    return sorted(float(r["s"]) for r in rows), int(pending)


def _wait_for_consumer(env: BenchEnv, stream: str, timeout: float = 30) -> None:
    """Load starts once a worker reads the lane, so start-up is not counted as latency."""
    client = redis.Redis.from_url(env.redis_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                if any(g["consumers"] for g in client.xinfo_groups(stream)):
                    time.sleep(0.5)
                    return
            except redis.ResponseError:
                pass
            time.sleep(0.1)
    finally:
        client.close()
    raise TimeoutError("no worker joined the lane")


def end_to_end_latency(env: BenchEnv, seconds: float) -> list[Row]:
    env.reset()
    with env.server("api") as port, env.process("workers"), env.process("workers.scheduler"):
        token = http_json(port, "/v1/users", {}, ADMIN)["token"]
        _wait_for_consumer(env, "bench:{answer}:stream")
        req = build_request("/v1/messages", b'{"text": "hello!"}', {"Authorization": f"Bearer {token}"})
        load = _in_other_process(_open, port, req, 50.0, seconds)
        time.sleep(2.0)
        lat, pending = asyncio.run(_latencies(env))
    p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else float("nan")
    return [
        Row(
            "message -> succeeded latency at 50 msg/s",
            f"p50 {p50:.1f} ms",
            "p50 <= 50 ms",
            verdict(p50 <= 50 and pending == 0),
            note=f"p99 {p99:.1f} ms over {len(lat)} tasks, {pending} not succeeded; "
            "from the task row's insert to "
            f"its succeeded event (API answer p50 {load.pct(0.5):.1f} ms on top)",
        ),
    ]


PARSE_SAMPLES = [
    "book a table for four at Luigi's tomorrow at seven",
    "remind me to take my heart pills every morning at eight and tell my daughter if I forget",
    "can I get a haircut at Bella Hair Salon on friday at 3",
    "tell my son I'll be late",
    "what time does the pharmacy close on sundays?",
    "cancel my reservation at golden dragon",
    "is my dentist appointment still on for tuesday",
    "what reminders do I have",
    "hello, how are you today",
    "set an alarm for 6 am",
    "could you book me a doctor's appointment next Tuesday at 3",
    "thanks so much",
    # Wording the first model is unsure of, so the second (with the sentence vector) is asked:
    "let my girl know I'm home safe",
    "is the spa expecting me tomorrow",
    "forget about the restaurant booking",
]


def parse_latency(rounds: int = 300) -> list[Row]:
    """The local parser in this process, model loaded once, as the API calls it."""
    from datetime import UTC, datetime

    from providers.local_intents import LocalIntentParser
    from providers.settings import Settings
    from providers.wiring import build_classifier

    started = time.perf_counter()
    classifier = build_classifier(Settings())
    parser = LocalIntentParser(classifier)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for text in PARSE_SAMPLES:  # warm: loads the sentence model too
        parser.parse_now(text, now=now, timezone="Europe/Stockholm")
    load_ms = (time.perf_counter() - started) * 1000
    second = sum(classifier.wants_second(classifier.first_pass(text)) for text in PARSE_SAMPLES)
    timings = []
    for _ in range(rounds):
        for text in PARSE_SAMPLES:
            t0 = time.perf_counter()
            parser.parse_now(text, now=now, timezone="Europe/Stockholm")
            timings.append(time.perf_counter() - t0)
    timings.sort()
    p50, p99 = timings[len(timings) // 2] * 1000, timings[int(0.99 * len(timings))] * 1000
    return [
        Row(
            "local parse latency (classifier + slots + time)",
            f"p50 {p50:.2f} ms",
            "p50 <= 10 ms",
            verdict(p50 <= 10),
            note=f"p99 {p99:.2f} ms (target <= 30 ms: {verdict(p99 <= 30)}); "
            f"{len(timings):,} parses of {len(PARSE_SAMPLES)} messages, {second} of which ask the second "
            f"model (sentence vector; ~5 % of real messages); models load {load_ms:.0f} ms once",
        ),
    ]
