"""Knowledge providers for skills and the API: the repository, the text extractor, the embedder,
the vector index and, with an LLM configured, the answer writer.

Listed in providers.wiring.PORT_MODULES. Nothing heavy happens here: the model is loaded and the
index opened on first use, so processes that never answer (the API, other lanes) never pay for them.
"""

from __future__ import annotations

import logging

import asyncpg
import redis.asyncio as aioredis
from openai import AsyncOpenAI

from domain.knowledge import (
    AnswerWriter,
    Embedder,
    KnowledgeIndex,
    KnowledgeLimits,
    KnowledgeRepositories,
    TextExtractor,
)
from providers import minilm_onnx
from providers.breaker import CircuitBreaker
from providers.document_text import DocumentTextExtractor
from providers.minilm_embeddings import DIMENSION, MiniLMEmbedder
from providers.openai_answers import OpenAIAnswerWriter
from providers.postgres.knowledge import knowledge_repository
from providers.qdrant_index import QdrantKnowledgeIndex
from providers.settings import Settings

log = logging.getLogger(__name__)


def knowledge_index(settings: Settings) -> QdrantKnowledgeIndex:
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantKnowledgeIndex(
            url=settings.qdrant_url,
            api_key=key,
            prefix=settings.qdrant_collection_prefix,
            dimension=DIMENSION,
        )
    return QdrantKnowledgeIndex(
        path=settings.data_dir / "qdrant", prefix=settings.qdrant_collection_prefix, dimension=DIMENSION
    )


def answer_writer(settings: Settings) -> OpenAIAnswerWriter | None:
    if not (settings.knowledge_use_llm and settings.llm_base_url):
        return None
    client = AsyncOpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed",
        timeout=settings.llm_timeout_seconds,
        max_retries=0,  # tenacity retries, so the breaker sees one failure per exhausted call
    )
    breaker = CircuitBreaker("llm-answers", failure_threshold=3, reset_seconds=30)
    return OpenAIAnswerWriter(client, settings.llm_model, breaker)


def limits(settings: Settings) -> KnowledgeLimits:
    return KnowledgeLimits(
        min_score=settings.knowledge_min_score,
        top_k=settings.knowledge_top_k,
        max_chunk_words=settings.knowledge_chunk_words,
        embed_batch=settings.knowledge_embed_batch,
    )


def build_embedder(settings: Settings) -> MiniLMEmbedder:
    """The ONNX export, where it was made, for single questions and float32 batches (one session
    for both); torch for bfloat16 batches, and for everything without the export."""
    directory = settings.sentence_model_dir or minilm_onnx.DEFAULT_DIR
    onnx_model = None
    if settings.knowledge_question_onnx or settings.knowledge_batch_onnx:
        if (directory / minilm_onnx.GRAPH).exists():
            onnx_model = minilm_onnx.LazyOnnxMiniLM(directory, threads=settings.knowledge_embed_threads)
        else:
            log.warning("no ONNX sentence model at %s: torch embeds everything (slower)", directory)
    return MiniLMEmbedder(
        batch_size=settings.knowledge_embed_batch,
        threads=settings.knowledge_embed_threads,
        precision=settings.knowledge_embed_precision,
        question_model=onnx_model if settings.knowledge_question_onnx else None,
        batch_model=onnx_model if settings.knowledge_batch_onnx else None,
    )


def build(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[type, object]:
    ports: dict[type, object] = {
        KnowledgeRepositories: knowledge_repository,
        TextExtractor: DocumentTextExtractor(),
        Embedder: build_embedder(settings),
        KnowledgeIndex: knowledge_index(settings),
        KnowledgeLimits: limits(settings),
    }
    writer = answer_writer(settings)
    if writer is not None:
        ports[AnswerWriter] = writer
    return ports
