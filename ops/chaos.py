"""`make chaos`: the whole system under steady load while its parts are killed, and a verdict.

Starts, on loopback only: the API, the scheduler, three workers (booking, reminder and notify
lanes) and an answer worker, against PostgreSQL (the machine's when it answers on 5432, else an
embedded one; always a fresh database) and a Redis server of its own (so it may kill it). A fake
"world" receives the family's and the app's webhooks. For CHAOS_SECONDS it sends a steady mix of
messages (bookings, reminders, family notifications, questions, small talk), confirming what asks
to be confirmed and cancelling what asks a question back, while it `kill -9`s random workers,
restarts the scheduler, restarts Redis, and makes the webhook receiver fail or hang.

Then it waits for every accepted task to end and checks, from PostgreSQL and the receiver:
accepted, terminal, lost (accepted but never terminal: must be 0), duplicate effects (a booking
confirmed twice for one task, a task that succeeded twice, a webhook event delivered twice by the
delivery log: must be 0; an event that reached the receiver again because a worker died between
the receiver's 2xx and the log is reported, as Standard Webhooks receivers dedupe on webhook-id),
the DLQ and its reasons, and end-to-end p99 during and outside faults.
The last line reads `accepted=N terminal=N lost=0 duplicate_effects=0 dlq=N p99_ms=N`; the exit
status is 1 when anything was lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from ops.migrate import upgrade
from providers.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "chaos-admin-token"
TERMINAL = {"succeeded", "dead_lettered", "cancelled"}
WORKER_LANES = "booking,reminder,notify,speech"
HANG_SECONDS = 4.0


# ---------------------------------------------------------------- the fake world


@dataclass
class World:
    """The family's and the app's webhook receivers: records what it accepted, by webhook-id."""

    mode: str = "ok"  # ok | fail | hang
    accepted: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> tuple[ThreadingHTTPServer, int]:
        world = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                mode = world.mode
                if mode == "hang":
                    time.sleep(HANG_SECONDS)
                if mode != "ok":
                    with world.lock:
                        world.refused += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                with world.lock:
                    world.accepted[self.headers.get("webhook-id", "?")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, server.server_address[1]


# ---------------------------------------------------------------- the processes


@dataclass
class Cluster:
    database_url: str
    redis: EmbeddedRedis
    logs: Path
    api_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            ERRAND_DATABASE_URL=self.database_url,
            ERRAND_REDIS_URL=self.redis.url,
            ERRAND_REDIS_PREFIX="chaos",
            ERRAND_ADMIN_TOKEN=ADMIN,
            ERRAND_PORT=str(self.api_port),
            ERRAND_DATA_DIR=str(self.logs / "data"),
            ERRAND_LOG_LEVEL="WARNING",
            ERRAND_WEBHOOKS_ALLOW_PRIVATE="true",
            ERRAND_WEBHOOKS_TIMEOUT_SECONDS="2",
            ERRAND_VISIBILITY_TIMEOUT_SECONDS="5",
            ERRAND_RECLAIM_INTERVAL_SECONDS="1",
            ERRAND_LEASE_MARGIN_SECONDS="3",
            ERRAND_LEASE_GRACE_SECONDS="1",
            ERRAND_REPUBLISH_AFTER_SECONDS="5",
            ERRAND_REDIS_TIMEOUT_SECONDS="1",
            ERRAND_SHUTDOWN_GRACE_SECONDS="5",
        )
        return env

    def start(self, name: str, *args: str) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", *args], cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )

    def start_all(self) -> None:
        self.start("api", "api")
        self.start("scheduler", "workers.scheduler")
        for n in range(3):
            self.start(f"worker{n}", "workers", "--lanes", WORKER_LANES, "--consumer", f"chaos-{n}")
        self.start("answer", "workers", "--lanes", "answer", "--consumer", "chaos-answer")
        wait_port(self.api_port, 60)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


# ---------------------------------------------------------------- faults


@dataclass
class Fault:
    kind: str
    started: float
    ended: float = 0.0


async def inject_faults(cluster: Cluster, world: World, seconds: float, faults: list[Fault]) -> None:
    """A fault every few seconds, in an order that covers every kind even in a short run."""
    kinds = ["kill_worker", "restart_redis", "provider_fail", "restart_scheduler", "kill_worker",
             "provider_hang", "kill_answer_worker"]  # fmt: skip
    gap = max(3.0, min(12.0, seconds / (len(kinds) + 1)))
    end = time.time() + seconds
    step = 0
    while time.time() + gap < end:
        await asyncio.sleep(gap * random.uniform(0.7, 1.0))
        kind = kinds[step % len(kinds)]
        step += 1
        fault = Fault(kind, time.time())
        faults.append(fault)
        await asyncio.to_thread(_apply, kind, cluster, world)
        fault.ended = time.time()


def _apply(kind: str, cluster: Cluster, world: World) -> None:
    if kind in ("kill_worker", "kill_answer_worker"):
        name = "answer" if kind == "kill_answer_worker" else f"worker{random.randrange(3)}"
        consumer = "chaos-answer" if name == "answer" else f"chaos-{name[-1]}"
        lanes = "answer" if name == "answer" else WORKER_LANES
        cluster.kill(name)
        time.sleep(random.uniform(0.5, 2.0))
        cluster.start(name, "workers", "--lanes", lanes, "--consumer", consumer)
    elif kind == "restart_scheduler":
        cluster.kill("scheduler")
        time.sleep(1.0)
        cluster.start("scheduler", "workers.scheduler")
    elif kind == "restart_redis":
        cluster.redis.kill()
        time.sleep(1.5)
        cluster.redis.start()
    else:
        world.mode = "fail" if kind == "provider_fail" else "hang"
        time.sleep(5.0)
        world.mode = "ok"


# ---------------------------------------------------------------- load


@dataclass
class Load:
    accepted: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    """Requests the API answered with an error, by status (the client retries them)."""


def message_text(rng: random.Random) -> str:
    day = (datetime.now() + timedelta(days=rng.randrange(1, 12))).strftime("%A %d %B")
    hour = rng.randrange(9, 21)
    return rng.choice(
        [
            f"book a table for {rng.randrange(1, 7)} at Luigi's Trattoria on {day} at {hour}:00",
            f"book a table for {rng.randrange(1, 5)} at Golden Dragon on {day} at {hour}:30",
            f"book me a haircut at Bella Hair Salon on {day} at {hour}:00",
            "remind me to drink a glass of water in 1 minute",
            "remind me to take my heart pills in 2 minutes",
            "tell my daughter I am home and had a nice lunch",
            "let my daughter know I took my pills",
            "what time does the clinic open on monday",
            "hello, how are you today?",
        ]
    )


async def request(http: httpx.AsyncClient, load: Load, method: str, url: str, **kw: Any) -> httpx.Response:
    """Retries what the API could not answer: a client of a system under fire does."""
    for _ in range(60):
        try:
            response = await http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            load.refused[type(exc).__name__] += 1
        else:
            if response.status_code < 500:
                return response
            load.refused[str(response.status_code)] += 1
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{method} {url} kept failing")


async def converse(http: httpx.AsyncClient, load: Load, token: str, rng: random.Random) -> None:
    """One message, followed until it ends: confirm read-backs, cancel questions back."""
    auth = {"Authorization": f"Bearer {token}"}
    key = uuid.uuid4().hex  # retried posts must not become two tasks
    body = {"text": message_text(rng)}
    posted = await request(
        http, load, "POST", "/v1/messages", json=body, headers={**auth, "Idempotency-Key": key}
    )
    if posted.status_code != 202:
        load.refused[str(posted.status_code)] += 1
        return
    task_id = posted.json()["task_id"]
    load.accepted.append(task_id)
    status = posted.json()["status"]
    while status not in TERMINAL:
        if status == "awaiting_confirmation":
            await request(http, load, "POST", f"/v1/tasks/{task_id}/confirm", headers=auth)
        elif status == "needs_input":
            await request(http, load, "POST", f"/v1/tasks/{task_id}/cancel", headers=auth)
        got = await request(http, load, "GET", f"/v1/tasks/{task_id}?wait=10", headers=auth)
        status = got.json()["status"]


async def send_load(port: int, tokens: list[str], seconds: float, rate: float, load: Load) -> None:
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as http:
        conversations: list[asyncio.Task[None]] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            conversations.append(asyncio.create_task(converse(http, load, rng.choice(tokens), rng)))
            await asyncio.sleep(rng.expovariate(rate))
        await asyncio.gather(*conversations, return_exceptions=True)


async def set_up_users(port: int, hook_port: int, count: int) -> list[str]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    tokens = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        (await http.post("/v1/admin/venues/seed", headers=admin)).raise_for_status()
        for n in range(count):
            user = (await http.post("/v1/users", json={"name": f"Chaos {n}"}, headers=admin)).json()
            auth = {"Authorization": f"Bearer {user['token']}"}
            contact = {
                "name": "Anna",
                "relation": "daughter",
                "webhook_url": f"http://127.0.0.1:{hook_port}/family/{n}",
                "consents": {"messages": True, "escalations": True, "bookings": True},
            }
            (await http.post("/v1/contacts", json=contact, headers=auth)).raise_for_status()
            app_hook = {"url": f"http://127.0.0.1:{hook_port}/app/{n}"}
            (await http.put("/v1/me/webhook", json=app_hook, headers=auth)).raise_for_status()
            (await http.patch("/v1/me", json={"confirm_reminders": False}, headers=auth)).raise_for_status()
            tokens.append(user["token"])
    return tokens


# ---------------------------------------------------------------- verdict


@dataclass
class Verdict:
    accepted: int
    terminal: int
    lost: int
    duplicates: dict[str, int]
    dlq: Counter[str]
    p99_during_ms: float
    p99_outside_ms: float
    p99_ms: float

    @property
    def ok(self) -> bool:
        return self.lost == 0 and sum(self.duplicates.values()) == 0


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def judge(database_url: str, load: Load, world: World, faults: list[Fault]) -> Verdict:
    conn = await asyncpg.connect(database_url)
    try:
        ids = [uuid.UUID(t) for t in load.accepted]
        rows = await conn.fetch(
            """SELECT t.id, t.status, t.error,
                      (SELECT min(at) FROM task_events e WHERE e.task_id = t.id) AS began,
                      (SELECT max(at) FROM task_events e WHERE e.task_id = t.id) AS ended
               FROM tasks t WHERE t.id = ANY($1::uuid[])""",
            ids,
        )
        doubled_bookings = await conn.fetchval(
            """SELECT count(*) FROM (SELECT task_id FROM bookings WHERE status = 'confirmed'
               GROUP BY task_id HAVING count(*) > 1) d"""
        )
        twice_succeeded = await conn.fetchval(
            """SELECT count(*) FROM (SELECT task_id FROM task_events WHERE to_status = 'succeeded'
               GROUP BY task_id HAVING count(*) > 1) d"""
        )
        delivered_twice = await conn.fetchval(
            """SELECT count(*) FROM (SELECT delivery_id FROM webhook_attempts WHERE result = 'delivered'
               GROUP BY delivery_id HAVING count(*) > 1) d"""
        )
        dlq_rows = await conn.fetch("SELECT error FROM tasks WHERE status = 'dead_lettered'")
    finally:
        await conn.close()
    terminal = [r for r in rows if r["status"] in TERMINAL]
    windows = [(f.started, f.ended + 2.0) for f in faults]
    during: list[float] = []
    outside: list[float] = []
    for r in terminal:
        began, ended = r["began"].timestamp(), r["ended"].timestamp()
        latency = (ended - began) * 1000
        hit = any(began <= w_end and ended >= w_start for w_start, w_end in windows)
        (during if hit else outside).append(latency)
    dlq: Counter[str] = Counter()
    for r in dlq_rows:
        error = r["error"] if isinstance(r["error"], dict) else json.loads(r["error"] or "{}")
        dlq[str(error.get("message") or error.get("reason") or "unknown")[:80]] += 1
    duplicates = {
        "bookings": int(doubled_bookings),
        "tasks_succeeded_twice": int(twice_succeeded),
        "webhook_events_delivered_twice": int(delivered_twice),
    }
    return Verdict(
        accepted=len(load.accepted),
        terminal=len(terminal),
        lost=len(load.accepted) - len(terminal),
        duplicates=duplicates,
        dlq=dlq,
        p99_during_ms=p99(during),
        p99_outside_ms=p99(outside),
        p99_ms=p99(during + outside),
    )


async def wait_terminal(database_url: str, ids: list[str], timeout: float) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            open_ = await conn.fetchval(
                "SELECT count(*) FROM tasks WHERE id = ANY($1::uuid[]) AND status <> ALL($2::text[])",
                [uuid.UUID(t) for t in ids],
                list(TERMINAL),
            )
            if open_ == 0:
                return
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def report(v: Verdict, load: Load, world: World, faults: list[Fault], seconds: float) -> str:
    lines = [
        f"chaos: {seconds:.0f} s of load, {len(faults)} faults: "
        + ", ".join(f"{k} x{n}" for k, n in Counter(f.kind for f in faults).items()),
        f"  messages accepted      {v.accepted}",
        f"  tasks terminal         {v.terminal}",
        f"  tasks lost             {v.lost}",
        "  duplicate effects      " + ", ".join(f"{k}={n}" for k, n in v.duplicates.items()),
        f"  webhooks accepted      {sum(world.accepted.values())} ({len(world.accepted)} event ids),"
        f" refused while failing/hanging {world.refused}",
        f"  webhooks redelivered   {sum(1 for n in world.accepted.values() if n > 1)} event ids reached the"
        " receiver again after a worker died between its 2xx and the log (same webhook-id: receivers dedupe)",
        f"  dead-lettered          {sum(v.dlq.values())}"
        + "".join(f"\n    {n} x {reason}" for reason, n in v.dlq.most_common()),
        f"  client retries         {dict(load.refused) or 'none'}",
        f"  end-to-end p99         {v.p99_during_ms:.0f} ms during faults, {v.p99_outside_ms:.0f} ms outside",
        f"accepted={v.accepted} terminal={v.terminal} lost={v.lost} "
        f"duplicate_effects={sum(v.duplicates.values())} dlq={sum(v.dlq.values())} p99_ms={v.p99_ms:.0f}",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def database(tmp: Path) -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL when it answers, else on an embedded one."""
    admin_url = os.environ.get("ERRAND_CHAOS_DATABASE_URL")
    embedded = None
    if admin_url is None:
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
        except OSError:
            embedded = EmbeddedPostgres(tmp / "postgres").start()
            admin_url = embedded.url
    name = f"errand_chaos_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if embedded is not None:
            embedded.stop()


async def run(
    cluster: Cluster, world: World, hook_port: int, seconds: float, rate: float
) -> tuple[Verdict, Load, list[Fault]]:
    tokens = await set_up_users(cluster.api_port, hook_port, count=8)
    load, faults = Load(), list[Fault]()
    await asyncio.gather(
        send_load(cluster.api_port, tokens, seconds, rate, load),
        inject_faults(cluster, world, seconds, faults),
    )
    await wait_terminal(cluster.database_url, load.accepted, timeout=max(60.0, seconds))
    return await judge(cluster.database_url, load, world, faults), load, faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("CHAOS_SECONDS", 180)))
    parser.add_argument(
        "--rate", type=float, default=float(os.environ.get("CHAOS_RATE", 8)), help="messages/s"
    )
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="errand-chaos-"))
    world = World()
    server, hook_port = world.serve()
    redis = EmbeddedRedis(tmp / "redis", persist=True).start()
    try:
        with database(tmp) as url:
            cluster = Cluster(url, redis, tmp)
            try:
                cluster.start_all()
                verdict, load, faults = asyncio.run(run(cluster, world, hook_port, args.seconds, args.rate))
            finally:
                cluster.stop_all()
    finally:
        redis.stop()
        server.shutdown()
    print(report(verdict, load, world, faults, args.seconds))
    print(f"(logs in {tmp})", file=sys.stderr)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
