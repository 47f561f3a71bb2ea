"""Knowledge benchmarks: what embedding costs, how fast documents are ingested, how fast a question
finds its passages among 10,000 chunks.

`knowledge_rows(env)` is called by `python -m bench`; `python -m bench.knowledge` runs it alone.

1. Embedding: one short question at a time (p50 of 50), and batches of real corpus chunks (64 each).
2. Ingest: the corpus (eval/knowledge) uploaded 10 times under different sources (120 documents,
   540 chunks) through `submit_document` into PostgreSQL, then each version indexed by
   `ingest_document` as the answer worker does it, 16 at a time like a worker's task slots (read,
   extract, chunk, embed in batches, upsert in Qdrant local mode, mark ready). chunks/s = chunks /
   wall time of the ingest calls.
3. Retrieval: one tenant's collection with 10,000 points: the corpus's real chunks plus synthetic
   filler (random unit vectors; local mode scans every vector, so its cost depends on the count, not
   on the content). p50 of `retrieve` (embed the question, query the collection) over the 104
   evaluation questions asked twice each, and of the Qdrant query alone.
All with the defaults a worker uses (`build_embedder`): 2 intra-op threads, batches of up to 64,
chunks of <= 80 words.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from qdrant_client import models

from bench.env import BenchEnv, open_env
from bench.report import Row, render, verdict
from domain.knowledge import (
    EXTENSIONS,
    Embedder,
    KnowledgeDocument,
    KnowledgeIndex,
    KnowledgeRepositories,
    NewDocument,
)
from domain.knowledge_services import IngestPorts, ingest_document, retrieve, submit_document
from domain.services import create_user
from eval.rag import corpus_files, load_questions, title_of
from providers.document_text import DocumentTextExtractor
from providers.knowledge import build_embedder
from providers.minilm_embeddings import MiniLMEmbedder
from providers.qdrant_index import QdrantKnowledgeIndex
from providers.settings import Settings
from providers.wiring import Providers, build_providers

POINTS = 10_000
COPIES = 10
RETRIEVAL_TARGET_MS = 30.0
INGEST_TARGET = 100.0


def _settings(env: BenchEnv) -> Settings:
    return Settings(
        database_url=env.database_url,
        redis_url=env.redis_url,
        redis_prefix=f"bench-knowledge-{uuid.uuid4().hex[:6]}",
        data_dir=env.tmp / f"knowledge-{uuid.uuid4().hex[:6]}",
        log_json=False,
    )


def embedding_costs(embedder: MiniLMEmbedder) -> tuple[float, float]:
    """(ms per single short question at p50, as `retrieve` asks for it; chunks/s in batches of 64)."""
    question = "How often should I have my eyes tested?"

    async def one_at_a_time() -> list[float]:
        for _ in range(5):
            await embedder.embed([question])
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            await embedder.embed([question])
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    single = asyncio.run(one_at_a_time())
    texts = _corpus_chunk_texts() * 4
    started = time.perf_counter()
    embedder.embed_sync(texts)
    return statistics.median(single), len(texts) / (time.perf_counter() - started)


def _corpus_chunk_texts() -> list[str]:
    from domain.chunking import chunk_text

    extractor = DocumentTextExtractor()
    texts = []
    for path in corpus_files():
        text = extractor.extract(path.read_bytes(), EXTENSIONS[path.suffix])
        texts += [c.embedding_text(title_of(text, path.stem)) for c in chunk_text(text)]
    return texts


async def ingest_rate(providers: Providers) -> tuple[int, float, float]:
    """(chunks, wall seconds, CPU seconds of this process) of ingesting the corpus COPIES times
    through the worker's use case."""
    async with providers.uow() as uow:
        user, _ = await create_user(timezone="UTC", name="bench", uow=uow)
    repositories: KnowledgeRepositories = providers.skill_ports[KnowledgeRepositories]  # type: ignore[assignment]
    submitted = []
    async with providers.uow() as uow:
        for copy in range(COPIES):
            for path in corpus_files():
                doc = NewDocument(
                    f"user:{user.id}",
                    f"{copy}/{path.name}",
                    path.stem,
                    EXTENSIONS[path.suffix],
                    path.read_bytes(),
                    user.id,
                )
                done = await submit_document(
                    user, doc, uow=uow, documents=repositories(uow), queue=providers.streams
                )
                submitted.append(done.document)
    ports = IngestPorts(
        extractor=DocumentTextExtractor(),
        embedder=providers.skill_ports[Embedder],  # type: ignore[arg-type]
        index=providers.skill_ports[KnowledgeIndex],  # type: ignore[arg-type]
    )
    slots = asyncio.Semaphore(providers.settings.worker_concurrency)  # tasks a worker runs at once

    async def one(doc: KnowledgeDocument) -> int:
        async with slots, providers.uow() as uow:
            report = await ingest_document(doc.id, doc.version, documents=repositories(uow), ports=ports)
        return report.chunks

    started, cpu = time.perf_counter(), time.process_time()
    chunks = sum(await asyncio.gather(*(one(doc) for doc in submitted)))
    return chunks, time.perf_counter() - started, time.process_time() - cpu


async def retrieval_latency(
    index: QdrantKnowledgeIndex, embedder: MiniLMEmbedder
) -> tuple[float, float, float, int]:
    """(retrieve p50 ms, retrieve p95 ms, query-only p50 ms, points) over a 10,000-point collection."""
    from eval.rag import TENANT, index_corpus

    real = await index_corpus(index, embedder, corpus_files(), 80)
    await _fill(index, TENANT, POINTS - real)
    questions = [q.question for q in load_questions()] * 2
    total, query_only = [], []
    for question in questions:
        started = time.perf_counter()
        await retrieve(question, [TENANT], embedder=embedder, index=index, limit=5)
        total.append((time.perf_counter() - started) * 1000)
    vector = embedder.embed_sync([questions[0]])[0]
    for _ in range(100):
        started = time.perf_counter()
        index.search_sync([TENANT], vector, 5)
        query_only.append((time.perf_counter() - started) * 1000)
    points = await index._run(lambda: index._open().count(index.collection(TENANT), exact=True).count)
    return statistics.median(total), float(np.percentile(total, 95)), statistics.median(query_only), points


async def _fill(index: QdrantKnowledgeIndex, tenant: str, count: int) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    filler = uuid.uuid4()

    def upsert() -> None:
        client = index._open()
        for start in range(0, count, 1000):
            points = [
                models.PointStruct(
                    id=str(uuid.uuid5(filler, str(i))),
                    vector=vectors[i].tolist(),
                    payload={
                        "document_id": str(filler),
                        "version": 1,
                        "title": "filler",
                        "heading": "",
                        "text": f"filler {i}",
                        "chunk": i,
                    },
                )
                for i in range(start, min(count, start + 1000))
            ]
            client.upsert(index.collection(tenant), points=points, wait=True)

    await index._run(upsert)


def knowledge_rows(env: BenchEnv) -> list[Row]:
    settings = _settings(env)
    embedder = build_embedder(settings)  # as a worker builds it
    single_ms, batch_rate = embedding_costs(embedder)
    print(f"embedding: {single_ms:.1f} ms per question, {batch_rate:.0f} chunks/s batched", flush=True)

    async def measure() -> tuple[tuple[int, float, float], tuple[float, float, float, int]]:
        providers = await build_providers(settings)
        providers.skill_ports[Embedder] = embedder
        try:
            ingest = await ingest_rate(providers)
        finally:
            providers.skill_ports.pop(Embedder)  # shared with the retrieval run: not closed here
            await providers.aclose()
        print(f"ingest: {ingest[0]} chunks in {ingest[1]:.1f} s ({ingest[2]:.1f} s CPU)", flush=True)
        with tempfile.TemporaryDirectory(prefix="errand-bench-qdrant-") as tmp:
            index = QdrantKnowledgeIndex(path=Path(tmp))
            try:
                retrieval = await retrieval_latency(index, embedder)
            finally:
                await index.aclose()
        return ingest, retrieval

    (chunks, seconds, cpu_seconds), (p50, p95, query_p50, points) = asyncio.run(measure())
    question_path = "ONNX Runtime float32" if embedder.question_model else f"torch {embedder.precision}"
    load = os.getloadavg()[0]  # the cores are shared: say how busy they were
    rate = chunks / seconds
    return [
        Row(
            f"knowledge: embed one question (MiniLM, {question_path}, "
            f"{settings.knowledge_embed_threads} threads)",
            f"{single_ms:.1f} ms p50",
            note="50 calls of one short sentence; batched chunks "
            f"({embedder.batch_engine}): {batch_rate:.0f} chunks/s (corpus chunks, batches of up to 64)",
        ),
        Row(
            "knowledge: ingest (extract, chunk, embed, upsert, mark ready)",
            f"{rate:.0f} chunks/s",
            f">= {INGEST_TARGET:.0f} chunks/s",
            verdict(rate >= INGEST_TARGET),
            f"{chunks} chunks of {COPIES}x the eval corpus in {seconds:.1f} s, Qdrant local mode; "
            f"{chunks / cpu_seconds:.0f} chunks per CPU-second of the process; "
            f"load average {load:.1f} on {os.cpu_count()} cores",
        ),
        Row(
            f"knowledge: retrieval p50 at {points:,} chunks",
            f"{p50:.1f} ms (p95 {p95:.1f})",
            f"<= {RETRIEVAL_TARGET_MS:.0f} ms",
            verdict(p50 <= RETRIEVAL_TARGET_MS and points >= POINTS),
            f"embed the question, query a tenant's collection (local mode); query alone {query_p50:.1f} ms; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        ),
    ]


def update_markdown(path: Path, rows: list[Row]) -> None:
    """Put these rows into the table of an existing docs/benchmarks.md (replacing earlier
    `knowledge:` rows), so that running this scenario alone keeps the other scenarios' figures."""
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if not line.startswith("| knowledge:")]
    fresh = [f"| {r.name} | {r.value} | {r.target} | {r.verdict} | {r.note} |" for r in rows]
    last = max((i for i, line in enumerate(kept) if line.startswith("|")), default=len(kept) - 1)
    path.write_text("\n".join([*kept[: last + 1], *fresh, *kept[last + 1 :]]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge")
    parser.add_argument("--write", type=Path, help="update this benchmarks.md with the rows")
    args = parser.parse_args()
    db = os.environ.get("ERRAND_BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("ERRAND_BENCH_REDIS_URL") or "redis://127.0.0.1:6379/12"
    with open_env(
        db, redis_url, Path(tempfile.mkdtemp(prefix="errand-bench-")), f"errand_bench_{uuid.uuid4().hex[:6]}"
    ) as env:
        rows = knowledge_rows(env)
    print(render(rows, {}))
    if args.write:
        update_markdown(args.write, rows)


if __name__ == "__main__":
    main()
