"""Webhook deliveries per second: one worker process on the notify lane, signing and posting to a
receiver on 127.0.0.1 that verifies every signature (tests/notify/receiver.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import asyncpg
import redis

from bench.env import BenchEnv
from bench.report import Row, verdict
from domain.webhooks import new_secret
from tests.notify.receiver import Receiver

USER = "00000000-0000-7000-8000-0000000000a1"
CONVERSATION = "00000000-0000-7000-8000-0000000000a2"
CONTACT = "00000000-0000-7000-8000-0000000000a3"


@contextlib.contextmanager
def receiver_thread(secret: str) -> Iterator[Receiver]:
    """The receiver on its own event loop in a thread, so the bench process can poll meanwhile."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="webhook-receiver", daemon=True)
    thread.start()

    async def start() -> Receiver:
        hook = Receiver()
        hook.secrets = [secret]
        return await hook.__aenter__()

    hook = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield hook
    finally:
        asyncio.run_coroutine_threadsafe(hook.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _seed(env: BenchEnv, url: str, secret: str, count: int) -> None:
    """A user, a consenting contact and `count` queued notify tasks, their doorbells rung."""
    conn = await asyncpg.connect(env.database_url)
    await conn.execute("INSERT INTO users (id, token_hash, name) VALUES ($1, 'x', 'Maria')", USER)
    await conn.execute("INSERT INTO conversations (id, user_id) VALUES ($1, $2)", CONVERSATION, USER)
    await conn.execute(
        """INSERT INTO contacts (id, user_id, name, relation, webhook_url, consents, secret)
           VALUES ($1, $2, 'Anna', 'daughter', $3, '{escalations}', $4)""",
        CONTACT,
        USER,
        url,
        secret,
    )
    rows = await conn.fetch(
        """INSERT INTO tasks (id, user_id, conversation_id, kind, lane, intent, input, status, max_attempts,
                              publish_after, published_at)
           SELECT gen_random_uuid(), $1, $2, 'notify_contact', 'notify', 'notify_family',
                  jsonb_build_object('contact_id', $3::text, 'topic', 'escalations',
                                     'text', 'Maria has not taken her 8:00 pills (' || n || ').'),
                  'queued', 8, now() + interval '1 hour', now()
           FROM generate_series(1, $4) AS n RETURNING id""",
        USER,
        CONVERSATION,
        CONTACT,
        count,
    )
    await conn.close()
    client = redis.Redis.from_url(env.redis_url)
    pipe = client.pipeline(transaction=False)
    for row in rows:
        pipe.xadd("bench:{notify}:stream", {"task_id": str(row["id"]), "kind": "notify_contact"})
    pipe.execute()
    client.close()


async def _figures(env: BenchEnv, count: int, timeout: float) -> tuple[int, float, float, float]:
    """Tasks succeeded, first claim to last success (s), and p50 / p99 of one attempt (ms)."""
    conn = await asyncpg.connect(env.database_url)
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline and done < count:
        done = await conn.fetchval(
            "SELECT count(*) FROM tasks WHERE kind = 'notify_contact' AND status = 'succeeded'"
        )
        await asyncio.sleep(0.2)
    span = await conn.fetchval(
        """SELECT extract(epoch FROM max(at) FILTER (WHERE to_status = 'succeeded')
                              - min(at) FILTER (WHERE to_status = 'running')) FROM task_events"""
    )
    p50, p99 = await conn.fetchrow(
        """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
                  percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM webhook_attempts"""
    )
    await conn.close()
    return int(done), float(span or 0), float(p50 or 0), float(p99 or 0)


def webhook_rows(env: BenchEnv, count: int = 3000, concurrency: int = 16) -> list[Row]:
    """One worker process on the notify lane with the default concurrency; `count` deliveries."""
    env.reset()
    secret = new_secret()
    with receiver_thread(secret) as hook:
        asyncio.run(_seed(env, hook.url, secret, count))
        with env.process(
            "workers",
            "--lanes",
            "notify",
            "--concurrency",
            str(concurrency),
            ERRAND_WEBHOOKS_ALLOW_PRIVATE="true",
        ):
            done, span, p50, p99 = asyncio.run(_figures(env, count, timeout=180))
        verified = len(hook.delivered())
        distinct = len({r.webhook_id for r in hook.requests})
    rate = done / span if span else 0.0
    return [
        Row(
            f"webhook deliveries/s, one worker (notify lane, {concurrency} in flight)",
            f"{rate:,.0f} deliveries/s",
            ">= 200",
            verdict(rate >= 200 and done == count == verified == distinct),
            note=f"{done:,}/{count:,} tasks, {verified:,} signatures verified by the receiver, "
            f"{distinct:,} distinct webhook-ids; one attempt p50 {p50:.1f} ms, p99 {p99:.1f} ms "
            "(resolve, sign, POST to 127.0.0.1); claim + delivery log + outcome in PostgreSQL per delivery",
        ),
    ]
