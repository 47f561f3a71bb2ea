"""Where benchmarks run: servers, a fresh database, child processes of the real entry points."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import redis

from ops.migrate import upgrade
from providers.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token"


@dataclass
class BenchEnv:
    database_url: str
    redis_url: str
    tmp: Path
    kinds: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        values = dict(os.environ)
        values.update(
            PYTHONPATH=str(ROOT),
            ERRAND_DATABASE_URL=self.database_url,
            ERRAND_REDIS_URL=self.redis_url,
            ERRAND_REDIS_PREFIX="bench",
            ERRAND_ADMIN_TOKEN=ADMIN,
            ERRAND_LOG_LEVEL="WARNING",
            # One user sends thousands of requests a second here: the budget is checked (its cost
            # is measured) but set out of reach.
            ERRAND_RATE_LIMIT_PER_MINUTE="1e12",
            ERRAND_RATE_LIMIT_BURST="1000000000",
        )
        values.update(extra)
        return values

    @contextlib.contextmanager
    def process(self, *args: str, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
        log = open(self.tmp / f"{args[0]}-{time.monotonic_ns()}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=self.env(**extra),
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
            log.close()

    @contextlib.contextmanager
    def server(self, module: str) -> Iterator[int]:
        port = free_port()
        with self.process(module, ERRAND_PORT=str(port)):
            wait_http(port)
            yield port

    def reset(self) -> None:
        """Empty tables and streams between scenarios, so one's backlog never slows the next."""
        import asyncio

        async def truncate() -> None:
            conn = await asyncpg.connect(self.database_url)
            await conn.execute("TRUNCATE task_events, tasks, conversations, users CASCADE")
            await conn.execute("DROP TABLE IF EXISTS baseline_messages")
            await conn.close()

        asyncio.run(truncate())
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(match="bench*")) + list(client.scan_iter(match="baseline*"))
        if keys:
            client.delete(*keys)
        client.close()


def wait_http(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"no answer on port {port}")


def http_json(port: int, path: str, body: dict[str, Any], token: str) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def open_env(database_url: str | None, redis_url: str | None, tmp: Path, db_name: str) -> Iterator[BenchEnv]:
    import asyncio

    started: list[Any] = []
    if database_url is None:
        pg = EmbeddedPostgres(tmp / "postgres").start()
        started.append(pg)
        database_url = pg.url
    if redis_url is None:
        server = EmbeddedRedis(tmp / "redis", persist=False).start()
        started.append(server)
        redis_url = server.url

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(database_url)
        await conn.execute(sql)
        await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{db_name}"'))
    url = database_url.rsplit("/", 1)[0] + f"/{db_name}"
    upgrade(url)
    env = BenchEnv(url, redis_url, tmp, {"postgres": "embedded" if started else "server"})
    try:
        yield env
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        for item in reversed(started):
            item.stop()


VECTOR_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")
"""The CPU features the embedding and intent costs depend on: bfloat16 is native only with
avx512_bf16 or amx_bf16 (the knowledge rows differ about 3x between such a CPU and an AVX2 one)."""


def _vector_units(flags: list[str]) -> str:
    present = [flag for flag in VECTOR_FLAGS if flag in flags]
    return ", ".join(present) or "none of " + ", ".join(VECTOR_FLAGS)


async def machine_facts(env: BenchEnv) -> dict[str, str]:
    import asyncpg as apg
    import fastapi
    import redis as r
    import uvicorn

    conn = await apg.connect(env.database_url)
    pg_version = await conn.fetchval("SHOW server_version")
    await conn.close()
    client = r.Redis.from_url(env.redis_url)
    redis_version = client.info()["redis_version"]
    client.close()
    cpu, vector = "unknown", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():  # noqa: ASYNC240 - once, at the end
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and vector == "unknown":
                vector = _vector_units(line.split(":", 1)[1].split())
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "vector units": vector,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": str(pg_version),
        "redis": str(redis_version),
        "fastapi / uvicorn": f"{fastapi.__version__} / {uvicorn.__version__}",
        "asyncpg / redis-py": f"{apg.__version__} / {r.__version__}",
    }
