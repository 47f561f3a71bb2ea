"""The bare baseline the API is compared with: FastAPI + one asyncpg INSERT + one XADD.

No auth, no parsing, no outbox bookkeeping: the least an endpoint that stores and queues a message
can do with the same stack. Run: python -m bench.baseline (uses ERRAND_DATABASE_URL/REDIS_URL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class Message(BaseModel):
    text: str


def create_app(database_url: str, redis_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(database_url, min_size=2, max_size=20)
        await app.state.pool.execute(
            "CREATE TABLE IF NOT EXISTS baseline_messages (id uuid PRIMARY KEY, text text NOT NULL)"
        )
        app.state.redis = aioredis.Redis.from_url(redis_url)
        yield
        await app.state.redis.aclose()
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/messages", status_code=202)
    async def post(message: Message) -> dict[str, str]:
        task_id = uuid.uuid4()
        await app.state.pool.execute(
            "INSERT INTO baseline_messages (id, text) VALUES ($1, $2)", task_id, message.text
        )
        await app.state.redis.xadd("baseline:stream", {"task_id": str(task_id)})
        return {"task_id": str(task_id)}

    return app


if __name__ == "__main__":
    app = create_app(os.environ["ERRAND_DATABASE_URL"], os.environ["ERRAND_REDIS_URL"])
    uvicorn.run(
        app, host="127.0.0.1", port=int(os.environ["ERRAND_PORT"]), log_level="warning", access_log=False
    )
