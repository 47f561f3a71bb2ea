"""The composition root: settings in, protocol-typed providers out. Called once per process."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import asyncpg
import redis.asyncio as aioredis
from openai import AsyncOpenAI
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel

from domain.placeholder_parser import PlaceholderParser
from domain.ports import Clock, IntentParser, TaskQueue
from domain.skills import SkillRegistry, default_registry
from providers import minilm_onnx
from providers.breaker import CircuitBreaker
from providers.clock import SystemClock
from providers.fallback_parser import FallbackParser
from providers.intent_classifier import IntentClassifier
from providers.local_intents import LocalIntentParser
from providers.openai_intents import OpenAIIntentParser
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
    skill_ports: dict[type, object] = field(default_factory=dict)
    """Providers skills use, by Protocol (see SkillContext.port)."""

    async def aclose(self) -> None:
        for port in self.skill_ports.values():
            closer = getattr(port, "aclose", None)
            if closer is not None:
                await closer()
        await self.updates.aclose()
        await self.redis.aclose()
        await self.pool.close()


def build_registry(settings: Settings) -> SkillRegistry:
    """Built-in skills, then those of `settings.extra_skills` modules (each has `register(registry)`)."""
    registry = default_registry()
    for module_name in settings.extra_skills:
        importlib.import_module(module_name).register(registry)
    return registry


def build_classifier(settings: Settings) -> IntentClassifier:
    """The local intent classifier, with the sentence model for its second opinion if configured."""
    classifier = IntentClassifier.load(settings.intent_model_path)
    if settings.intent_second_opinion and classifier.second is not None:
        directory = settings.sentence_model_dir or minilm_onnx.DEFAULT_DIR
        classifier.embed = minilm_onnx.LazyOnnxMiniLM(directory, threads=1).embed_one
    return classifier


def build_parser(settings: Settings) -> IntentParser:
    """The configured parser; the LLM always has the local parser behind it."""
    if settings.parser == "placeholder":
        return PlaceholderParser()
    local = LocalIntentParser(build_classifier(settings))
    if settings.parser == "local":
        return local
    if not settings.llm_base_url:
        raise ValueError("ERRAND_PARSER=llm needs ERRAND_LLM_BASE_URL")
    client = AsyncOpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed",
        timeout=settings.llm_timeout_seconds,
        max_retries=0,  # tenacity retries, so the breaker sees one failure per exhausted call
    )
    llm = OpenAIIntentParser(
        client, settings.llm_model, CircuitBreaker("llm", failure_threshold=3, reset_seconds=30)
    )
    return FallbackParser(llm, local)


def redis_client(settings: Settings) -> aioredis.Redis:
    """One client for every Redis role. With ERRAND_REDIS_CLUSTER the URL names any node of a
    Redis Cluster; the cluster client speaks the same commands (the keys are hash-tagged per lane),
    so it is handed out under the plain client's type."""
    timeouts: dict[str, Any] = {
        "socket_timeout": settings.redis_timeout_seconds + settings.worker_block_ms / 1000,
        "socket_connect_timeout": settings.redis_timeout_seconds,
    }
    if settings.redis_cluster:
        return cast(aioredis.Redis, RedisCluster.from_url(settings.redis_url, **timeouts))
    if settings.redis_sentinels:
        return _sentinel_master(settings, timeouts)
    return aioredis.Redis.from_url(
        settings.redis_url, max_connections=256, retry_on_timeout=False, **timeouts
    )


def _sentinel_master(settings: Settings, timeouts: dict[str, Any]) -> aioredis.Redis:
    """The current master of ERRAND_REDIS_SENTINEL_MASTER, found through the sentinels and found
    again after a failover; ERRAND_REDIS_URL still gives the database index and the password."""
    url = urlsplit(settings.redis_url)
    nodes = []
    for node in settings.redis_sentinels:
        host, _, port = node.rpartition(":")
        nodes.append((host or "127.0.0.1", int(port)))
    sentinel = Sentinel(nodes, sentinel_kwargs={"socket_timeout": settings.redis_timeout_seconds})  # type: ignore[no-untyped-call]
    master: _SentinelMaster = sentinel.master_for(
        settings.redis_sentinel_master,
        redis_class=_SentinelMaster,
        db=int(url.path.lstrip("/") or 0),
        password=unquote(url.password) if url.password else None,
        retry_on_timeout=False,
        **timeouts,
    )
    master.watchers = sentinel
    return master


class _SentinelMaster(aioredis.Redis):
    """The master's client, which also closes its connections to the sentinels."""

    watchers: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for client in self.watchers.sentinels if self.watchers else ():
            await client.aclose()


async def build_providers(settings: Settings) -> Providers:
    pool = await create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    client = redis_client(settings)
    keys = StreamKeys(settings.redis_prefix)
    streams, parser, registry = (
        RedisStreams(client, keys, cluster=settings.redis_cluster),
        build_parser(settings),
        build_registry(settings),
    )
    skill_ports = build_skill_ports(settings, pool, client)
    # Skills that accept a message themselves (a transcribed voice message) use the same ones.
    skill_ports.update({IntentParser: parser, SkillRegistry: registry, TaskQueue: streams})
    return Providers(
        settings=settings,
        pool=pool,
        redis=client,
        uow=PostgresUnitOfWorkFactory(pool),
        streams=streams,
        updates=RedisTaskUpdates(client, keys.updates),
        runs=PostgresTaskRuns(pool),
        relay=PostgresRelayStore(pool),
        parser=parser,
        registry=registry,
        clock=SystemClock(),
        skill_ports=skill_ports,
    )


PORT_MODULES: tuple[str, ...] = (
    "providers.webhooks",
    "providers.bookings",
    "providers.reminders",
    "providers.family_alerts",
    "providers.knowledge",
    "providers.speech",
)
"""Modules with `build(settings, pool, redis) -> dict[type, object]`: the providers skills use."""


def build_skill_ports(settings: Settings, pool: asyncpg.Pool, client: aioredis.Redis) -> dict[type, object]:
    ports: dict[type, object] = {}
    for name in PORT_MODULES:
        ports.update(importlib.import_module(name).build(settings, pool, client))
    return ports
