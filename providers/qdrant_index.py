"""The knowledge index on Qdrant: local mode (in-process, under the data directory) by default, a
Qdrant server when ERRAND_QDRANT_URL is set.

One collection per tenant, so a search reads only the collections of the tenants it is given and
needs no payload filter: local mode scans filters in Python (~135 ms at 10k points, against ~7 ms
unfiltered, measured here). Local mode allows one process per storage path, which is why only the
answer lane's worker opens the index (the API queues tasks instead). The client is synchronous and
runs in the index's own thread: the event loop never blocks on it, and local mode, which is not
thread-safe, is only ever used by that thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import httpx
import numpy as np

from domain.errors import PermanentError, TransientError
from domain.knowledge import Chunk, Passage

if TYPE_CHECKING:  # imported when the index is first used: it costs every process ~0.5 s of CPU
    from qdrant_client import QdrantClient, models

log = logging.getLogger(__name__)

T = TypeVar("T")
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_REFUSALS = frozenset({400, 401, 403, 422})
"""A wrong key or a request the server rejects (a vector of another size): no retry fixes these."""


def point_id(document_id: uuid.UUID, version: int, index: int) -> str:
    """Deterministic, so re-running an ingest overwrites instead of duplicating."""
    return str(uuid.uuid5(document_id, f"{version}:{index}"))


class QdrantKnowledgeIndex:
    def __init__(
        self,
        *,
        path: Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        prefix: str = "errand",
        dimension: int = 384,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("give the index a local path or a server URL, not both")
        self._path, self._url, self._api_key = path, url, api_key
        self._prefix = prefix
        self._dimension = dimension
        self._client: QdrantClient | None = None
        self._known: set[str] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant")

    def collection(self, tenant: str) -> str:
        return f"{self._prefix}_kb_{_UNSAFE.sub('_', tenant)}"

    async def replace(
        self,
        tenant: str,
        document_id: uuid.UUID,
        version: int,
        title: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        await self._run(lambda: self._replace(tenant, document_id, version, title, chunks, vectors))

    async def remove(self, tenant: str, document_id: uuid.UUID) -> None:
        await self._run(lambda: self._remove(tenant, document_id))

    async def search(self, tenants: Sequence[str], vector: Sequence[float], limit: int) -> list[Passage]:
        return await self._run(lambda: self.search_sync(tenants, vector, limit))

    def search_sync(self, tenants: Sequence[str], vector: Sequence[float], limit: int) -> list[Passage]:
        """Blocking: from the index's thread, or a single-threaded script (the benchmark)."""
        client = self._open()
        found: list[Passage] = []
        for tenant in tenants:
            name = self.collection(tenant)
            if not self._exists(client, name):
                continue
            hits = client.query_points(name, query=unit(vector), limit=limit, with_payload=True).points
            found += [_passage(hit) for hit in hits]
        return sorted(found, key=lambda p: p.score, reverse=True)[:limit]

    def _replace(
        self,
        tenant: str,
        document_id: uuid.UUID,
        version: int,
        title: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        from qdrant_client import models

        client = self._open()
        name = self._ensure(client, tenant)
        points = [
            models.PointStruct(
                id=point_id(document_id, version, chunk.index),
                vector=unit(vector),
                payload={
                    "document_id": str(document_id),
                    "version": version,
                    "title": title,
                    "heading": chunk.heading,
                    "text": chunk.text,
                    "chunk": chunk.index,
                },
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        for start in range(0, len(points), 256):
            client.upsert(name, points=points[start : start + 256], wait=True)
        if version == 1:
            return  # no older version to clear: skips a filter that local mode scans point by point
        stale = models.Filter(
            must=[_match("document_id", str(document_id))], must_not=[_match("version", version)]
        )
        client.delete(name, points_selector=models.FilterSelector(filter=stale), wait=True)

    def _remove(self, tenant: str, document_id: uuid.UUID) -> None:
        from qdrant_client import models

        client = self._open()
        name = self.collection(tenant)
        if self._exists(client, name):
            selector = models.FilterSelector(
                filter=models.Filter(must=[_match("document_id", str(document_id))])
            )
            client.delete(name, points_selector=selector, wait=True)

    def _open(self) -> QdrantClient:
        from qdrant_client import QdrantClient

        if self._client is None:
            if self._path is not None:
                self._path.mkdir(parents=True, exist_ok=True)
                self._client = QdrantClient(path=str(self._path))
            else:
                self._client = QdrantClient(url=self._url, api_key=self._api_key, timeout=10)
        return self._client

    def _exists(self, client: QdrantClient, name: str) -> bool:
        if name not in self._known and client.collection_exists(name):
            self._known.add(name)
        return name in self._known

    def _ensure(self, client: QdrantClient, tenant: str) -> str:
        from qdrant_client import models

        name = self.collection(tenant)
        if not self._exists(client, name):
            # DOT, not COSINE: vectors are stored and asked for at unit length (`unit`), so the
            # scores are the same cosines, and local mode's COSINE normalises every stored vector
            # again on every query (18 of 20 ms at 10,000 points on a 2-core CPU; DOT is one
            # matrix-vector product).
            vectors = models.VectorParams(size=self._dimension, distance=models.Distance.DOT)
            client.create_collection(name, vectors_config=vectors)
            if self._url is not None:  # local mode has no payload indexes (it scans)
                schema = models.PayloadSchemaType.KEYWORD
                client.create_payload_index(name, "document_id", field_schema=schema)
            self._known.add(name)
        return name

    async def _run(self, call: Callable[[], T]) -> T:
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, call)
        except UnexpectedResponse as exc:
            if exc.status_code == 404:
                self._known.clear()  # a collection deleted on the server is created again on retry
            if exc.status_code in _REFUSALS:
                raise PermanentError(f"the vector store refused the request ({exc.status_code})") from exc
            raise TransientError(f"the vector store failed ({exc.status_code})") from exc
        except (ResponseHandlingException, httpx.HTTPError) as exc:
            raise TransientError(f"the vector store failed: {type(exc).__name__}") from exc
        except RuntimeError as exc:
            if "already accessed by another instance" in str(exc):
                # Local mode: another process holds this storage path. Run one answer worker per
                # path, or a Qdrant server (ERRAND_QDRANT_URL) for more.
                raise TransientError("the local vector store is held by another process") from exc
            raise

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _match(key: str, value: str | int) -> models.FieldCondition:
    from qdrant_client import models

    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def _passage(hit: models.ScoredPoint) -> Passage:
    payload = hit.payload or {}
    return Passage(
        document_id=uuid.UUID(str(payload["document_id"])),
        title=str(payload.get("title", "")),
        heading=str(payload.get("heading", "")),
        text=str(payload.get("text", "")),
        score=float(hit.score),
        chunk=int(payload.get("chunk", 0)),
    )


def unit(vector: Sequence[float]) -> list[float]:
    """The vector scaled to length 1 (the embedder's already are; this keeps DOT scores cosines
    whatever an embedder returns), as the plain list the client sends."""
    array = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(array))
    result: list[float] = (array / norm).tolist() if norm > 0 else array.tolist()
    return result
