"""Knowledge bases: documents, their chunks and passages, tenants, and the ports of retrieval.

A knowledge base belongs to a tenant: a user (their own notes) or an organisation (a clinic's FAQ)
whose members read it. Tenants never see each other's documents: every port takes the tenants a
request may read, and the vector index keeps one collection per tenant.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.errors import InvalidInput
from domain.ports import UnitOfWork

INGEST_SKILL = "knowledge_ingest"
DELETE_SKILL = "knowledge_delete"

MEDIA_TYPES = {
    "text/markdown": "markdown",
    "text/plain": "text",
    "text/html": "html",
    "application/pdf": "pdf",
}
"""The media types a document may have, and the format each is read as."""
EXTENSIONS = {".md": "text/markdown", ".markdown": "text/markdown", ".txt": "text/plain"}
EXTENSIONS |= {".html": "text/html", ".htm": "text/html", ".pdf": "application/pdf"}

_ORG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def user_tenant(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


def org_tenant(org: str) -> str:
    """An organisation's tenant; raises InvalidInput for a name that is not a lower-case slug."""
    if not _ORG.match(org):
        raise InvalidInput("an organisation is named by a lower-case slug: letters, digits and '-'")
    return f"org:{org}"


def media_type_of(filename: str | None, declared: str | None) -> str:
    """The document's media type, from the declared one or the file's extension; InvalidInput when
    neither is one we read."""
    declared = (declared or "").split(";", 1)[0].strip().lower()
    if declared in MEDIA_TYPES:
        return declared
    suffix = "." + (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    raise InvalidInput("send Markdown, plain text, HTML or PDF (.md, .txt, .html, .pdf)")


def content_hash(body: bytes, title: str, media_type: str) -> str:
    return hashlib.sha256(b"\0".join([title.encode(), media_type.encode(), body])).hexdigest()


class DocumentStatus(StrEnum):
    INDEXING = "indexing"
    """Accepted; its ingest task has not finished (the previous version stays searchable)."""
    READY = "ready"
    FAILED = "failed"
    """The file could not be read (a broken PDF); `error` says why."""
    DELETING = "deleting"
    """Deleted by its owner: no longer answered from, its chunks are being removed."""


@dataclass(frozen=True, slots=True)
class NewDocument:
    tenant: str
    source: str
    """The document's key within its tenant: uploading the same source again replaces it."""
    title: str
    media_type: str
    body: bytes
    uploaded_by: uuid.UUID


@dataclass(frozen=True, slots=True)
class KnowledgeDocument:
    id: uuid.UUID
    tenant: str
    source: str
    title: str
    media_type: str
    content_hash: str
    version: int
    """Bumped by every changed upload; an ingest task indexes exactly one version."""
    status: DocumentStatus
    chunks: int
    """Chunks of the indexed version (0 before the first ingest)."""
    created_at: datetime
    updated_at: datetime
    error: str | None = None
    task_id: uuid.UUID | None = None
    """The task of the latest upload or deletion."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document small enough to embed well: whole sentences under one heading."""

    index: int
    heading: str
    """The heading path ("Falls > At home"), empty before the first heading."""
    text: str

    def embedding_text(self, title: str) -> str:
        """What is embedded: the title and heading give a short passage its topic."""
        context = place(title, self.heading)
        return f"{context}\n{self.text}" if context else self.text


def place(title: str, heading: str) -> str:
    """Where a passage is, for people and for the model: "Title > Section" (the title once, though
    the heading path usually starts with the document's own top heading)."""
    if not heading or heading == title or heading.startswith(f"{title} > "):
        return heading or title
    return f"{title} > {heading}" if title else heading


@dataclass(frozen=True, slots=True)
class Passage:
    """A chunk found for a question, with its cosine similarity to it."""

    document_id: uuid.UUID
    title: str
    heading: str
    text: str
    score: float
    chunk: int

    def source(self) -> dict[str, object]:
        return {
            "document_id": str(self.document_id),
            "title": self.title,
            "heading": self.heading,
            "score": round(self.score, 4),
            "chunk": self.chunk,
        }


@dataclass(frozen=True, slots=True)
class GroundedAnswer:
    """What the LLM wrote from the passages."""

    known: bool
    """False when the passages do not contain the answer."""
    text: str
    cited: tuple[int, ...] = ()
    """1-based numbers of the passages the answer rests on."""


@dataclass(frozen=True, slots=True)
class KnowledgeLimits:
    """Retrieval settings, from ERRAND_KNOWLEDGE_* (see providers.settings)."""

    min_score: float = 0.40
    """Passages scoring below this do not count as an answer (chosen on the dev questions)."""
    top_k: int = 5
    """Passages retrieved per question."""
    shown: int = 2
    """Passages quoted in an extractive answer."""
    max_chunk_words: int = 80
    embed_batch: int = 64


@dataclass(frozen=True, slots=True)
class IngestReport:
    document_id: uuid.UUID
    version: int
    chunks: int
    skipped: str | None = None
    """Why nothing was indexed (a newer version superseded this one, the document was deleted)."""
    embed_ms: float = 0.0


class Embedder(Protocol):
    """Sentence embeddings, unit length, so a dot product is the cosine similarity."""

    dimension: int

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeds in batches; the order of the vectors is the order of `texts`."""
        ...


class KnowledgeIndex(Protocol):
    """The vector store, one collection per tenant."""

    async def replace(
        self,
        tenant: str,
        document_id: uuid.UUID,
        version: int,
        title: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Store the version's chunks, then drop the document's other versions: searches see the old
        chunks or the new ones, never none. Idempotent for one (document, version)."""
        ...

    async def remove(self, tenant: str, document_id: uuid.UUID) -> None:
        """Drop every chunk of the document; no error if there is none."""
        ...

    async def search(self, tenants: Sequence[str], vector: Sequence[float], limit: int) -> list[Passage]:
        """The best `limit` passages of these tenants' collections, best first."""
        ...


class TextExtractor(Protocol):
    def extract(self, body: bytes, media_type: str) -> str:
        """The document as Markdown-like text (headings as '#' lines). Raises PermanentError for a
        file that cannot be read."""
        ...


class AnswerWriter(Protocol):
    """An LLM that answers only from the passages given."""

    async def write(self, question: str, passages: Sequence[Passage]) -> GroundedAnswer:
        """Raises TransientError (unreachable, circuit open) or PermanentError."""
        ...


class KnowledgeRepository(Protocol):
    """Documents' metadata and bodies (PostgreSQL)."""

    async def upsert(self, doc: NewDocument, task_id: uuid.UUID) -> tuple[KnowledgeDocument, bool]:
        """Insert the document or replace the tenant's document of the same source. Returns it and
        whether it changed (a new version to index); an unchanged one keeps its version and task."""
        ...

    async def get(self, tenants: Sequence[str], document_id: uuid.UUID) -> KnowledgeDocument | None: ...

    async def page(
        self, tenants: Sequence[str], limit: int, before: uuid.UUID | None
    ) -> list[KnowledgeDocument]: ...

    async def body(self, document_id: uuid.UUID) -> tuple[KnowledgeDocument, bytes] | None: ...

    async def mark_indexed(self, document_id: uuid.UUID, version: int, chunks: int) -> bool:
        """Ready with `chunks`, if `version` is still current and not deleted."""
        ...

    async def mark_failed(self, document_id: uuid.UUID, version: int, error: str) -> None: ...

    async def mark_deleting(
        self, tenants: Sequence[str], document_id: uuid.UUID, task_id: uuid.UUID
    ) -> KnowledgeDocument | None: ...

    async def purge(self, document_id: uuid.UUID) -> None:
        """Delete the row of a document in `deleting`."""
        ...

    async def live(self, document_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these documents may be answered from (not deleting, not gone)."""
        ...

    async def has_documents(self, tenants: Sequence[str]) -> bool: ...

    async def being_indexed(self, tenants: Sequence[str]) -> bool:
        """Whether a document of these tenants is still being indexed."""
        ...

    async def any_documents(self) -> bool:
        """Whether any tenant has a document at all (the answer worker then loads its model early)."""
        ...

    async def tenants_of(self, user_id: uuid.UUID) -> list[str]:
        """The user's own tenant and the organisations they are a member of."""
        ...

    async def is_editor(self, user_id: uuid.UUID, org: str) -> bool: ...

    async def user_exists(self, user_id: uuid.UUID) -> bool: ...

    async def set_member(self, org: str, user_id: uuid.UUID, role: str | None) -> bool:
        """Add or change a membership (`reader`, `editor`), or end it (None). False when there is no
        such user (or, ending it, no such membership)."""
        ...


class KnowledgeRepositories(Protocol):
    """The repository on a unit of work's connection (wired as a skill port)."""

    def __call__(self, uow: UnitOfWork) -> KnowledgeRepository: ...
