"""The composition root: settings in, protocol-typed providers out. Called once per process."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from domain.placeholder_parser import PlaceholderParser
from domain.ports import Clock, IntentParser
from domain.skills import SkillRegistry, default_registry
from providers.clock import SystemClock
from providers.postgres.pool import create_pool
from providers.postgres.relay import PostgresRelayStore
from providers.postgres.runs import PostgresTaskRuns
from providers.postgres.uow import PostgresUnitOfWorkFactory
from providers.redis_streams import RedisStreams, StreamKeys
from providers.redis_updates import RedisTaskUpdates
from providers.settings import Settings


@dataclass(frozen=True)
class Providers:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    uow: PostgresUnitOfWorkFactory
    streams: RedisStreams
    updates: RedisTaskUpdates
    runs: PostgresTaskRuns
    relay: PostgresRelayStore
    parser: IntentParser
    registry: SkillRegistry
    clock: Clock

    async def aclose(self) -> None:
        await self.updates.aclose()
        await self.redis.aclose()
        await self.pool.close()


def build_registry(settings: Settings) -> SkillRegistry:
    """Built-in skills, then those of `settings.extra_skills` modules (each has `register(registry)`)."""
    registry = default_registry()
    for module_name in settings.extra_skills:
        importlib.import_module(module_name).register(registry)
    return registry


def redis_client(settings: Settings) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds + settings.worker_block_ms / 1000,
        socket_connect_timeout=settings.redis_timeout_seconds,
        retry_on_timeout=False,
        max_connections=256,
    )


async def build_providers(settings: Settings) -> Providers:
    pool = await create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    client = redis_client(settings)
    keys = StreamKeys(settings.redis_prefix)
    return Providers(
        settings=settings,
        pool=pool,
        redis=client,
        uow=PostgresUnitOfWorkFactory(pool),
        streams=RedisStreams(client, keys),
        updates=RedisTaskUpdates(client, keys.updates),
        runs=PostgresTaskRuns(pool),
        relay=PostgresRelayStore(pool),
        parser=PlaceholderParser(),
        registry=build_registry(settings),
        clock=SystemClock(),
    )
