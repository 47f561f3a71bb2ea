"""Knowledge use cases for the API, the CLI and the skills. Each receives its ports as keyword
arguments and does no I/O of its own.

Only the answer lane's workers touch the embedder and the vector index: the API stores the
document and queues a task, so an embedded (local-mode) index has a single process using it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.chunking import chunk_text
from domain.errors import Conflict, InvalidInput, NotFound, PermanentError, TransientError
from domain.ids import uuid7
from domain.intents import Intent
from domain.knowledge import (
    DELETE_SKILL,
    INGEST_SKILL,
    AnswerWriter,
    DocumentStatus,
    Embedder,
    IngestReport,
    KnowledgeDocument,
    KnowledgeIndex,
    KnowledgeLimits,
    KnowledgeRepository,
    NewDocument,
    Passage,
    TextExtractor,
    org_tenant,
    place,
    user_tenant,
)
from domain.ports import Doorbell, NewTask, TaskQueue, UnitOfWork
from domain.tasks import Lane, Task
from domain.users import User
from domain.wording import said

log = logging.getLogger(__name__)

MAX_TITLE = 300
INGEST_ATTEMPTS = 5
DONT_KNOW = "I don't know. I couldn't find that in your documents."
NO_DOCUMENTS = "I don't know the answer to that yet: no documents have been added for me to look in."
STILL_READING = "I'm still reading the documents you added. Please ask me again in a moment."


@dataclass(frozen=True, slots=True)
class Submitted:
    document: KnowledgeDocument
    task: Task | None
    """The ingest task; None when the upload was identical to the indexed document."""


async def submit_document(
    user: User, doc: NewDocument, *, uow: UnitOfWork, documents: KnowledgeRepository, queue: TaskQueue
) -> Submitted:
    """Store the document and queue its ingestion on the answer lane (published after commit). The
    same source again replaces the document: a changed body gets a new version, an identical one
    no task. Raises InvalidInput for an empty document, NotFound for an organisation the user
    may not write to."""
    if not doc.title.strip() or len(doc.title) > MAX_TITLE:
        raise InvalidInput(f"a document needs a title of 1 to {MAX_TITLE} characters")
    if not doc.body.strip():
        raise InvalidInput("the document is empty")
    await _check_writable(user, doc.tenant, documents)
    task_id = uuid7()
    async with uow.transaction():
        stored, changed = await documents.upsert(doc, task_id)
        task = None
        if changed:
            task = await uow.tasks.insert(_task(user, task_id, INGEST_SKILL, stored))
    if task is not None:
        await _publish(task, uow, queue)
    return Submitted(stored, task)


async def delete_document(
    user: User,
    document_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    documents: KnowledgeRepository,
    queue: TaskQueue,
) -> Submitted:
    """Stop answering from the document at once, and queue the removal of its chunks. NotFound for
    documents of tenants the user may not write to; Conflict if it is already being deleted."""
    tenants = await _writable(user, documents)
    task_id = uuid7()
    async with uow.transaction():
        found = await documents.get(tenants, document_id)
        if found is None:
            raise NotFound("document not found")
        if found.status is DocumentStatus.DELETING:
            raise Conflict("this document is already being deleted")
        marked = await documents.mark_deleting(tenants, document_id, task_id)
        assert marked is not None
        task = await uow.tasks.insert(_task(user, task_id, DELETE_SKILL, marked))
    if task is not None:
        await _publish(task, uow, queue)
    return Submitted(marked, task)


async def get_document(
    user: User, document_id: uuid.UUID, *, documents: KnowledgeRepository
) -> KnowledgeDocument:
    found = await documents.get(await documents.tenants_of(user.id), document_id)
    if found is None:
        raise NotFound("document not found")
    return found


async def list_documents(
    user: User, *, limit: int, cursor: uuid.UUID | None, documents: KnowledgeRepository
) -> tuple[list[KnowledgeDocument], uuid.UUID | None]:
    """The documents the user reads (their own and their organisations'), newest first."""
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200")
    found = await documents.page(await documents.tenants_of(user.id), limit + 1, cursor)
    next_cursor = found[limit - 1].id if len(found) > limit else None
    return found[:limit], next_cursor


async def _check_writable(user: User, tenant: str, documents: KnowledgeRepository) -> None:
    if tenant == user_tenant(user.id):
        return
    if tenant.startswith("org:") and await documents.is_editor(user.id, tenant.removeprefix("org:")):
        return
    raise NotFound("organisation not found")


async def _writable(user: User, documents: KnowledgeRepository) -> list[str]:
    tenants = await documents.tenants_of(user.id)
    own = [user_tenant(user.id)]
    orgs = [t for t in tenants if t.startswith("org:")]
    return own + [t for t in orgs if await documents.is_editor(user.id, t.removeprefix("org:"))]


def _task(user: User, task_id: uuid.UUID, kind: str, doc: KnowledgeDocument) -> NewTask:
    return NewTask(
        id=task_id,
        user_id=user.id,
        conversation_id=uuid7(),
        kind=kind,
        lane=Lane.ANSWER,
        intent=Intent.NONE.value,
        slots={},
        input={"document_id": str(doc.id), "version": doc.version, "tenant": doc.tenant},
        parser="knowledge",
        max_attempts=INGEST_ATTEMPTS,
        idempotency_key=None,
        request_hash=None,
    )


async def _publish(task: Task, uow: UnitOfWork, queue: TaskQueue) -> None:
    if not await queue.publish([Doorbell(task.id, task.lane, task.kind)]):
        await uow.tasks.mark_unpublished(task.id)


async def set_membership(
    org: str, user_id: uuid.UUID, role: str | None, *, documents: KnowledgeRepository
) -> None:
    """Let a user read (`reader`) or also write (`editor`) an organisation's knowledge base, or end
    it (None). NotFound for an unknown user or membership."""
    org_tenant(org)
    if role not in (None, "reader", "editor"):
        raise InvalidInput("role is 'reader' or 'editor'")
    if not await documents.set_member(org, user_id, role):
        raise NotFound("no such user" if role else "no such membership")


@dataclass(frozen=True, slots=True)
class IngestPorts:
    """What ingestion uses besides the repository."""

    extractor: TextExtractor
    embedder: Embedder
    index: KnowledgeIndex
    limits: KnowledgeLimits = field(default_factory=KnowledgeLimits)


async def ingest_document(
    document_id: uuid.UUID, version: int, *, documents: KnowledgeRepository, ports: IngestPorts
) -> IngestReport:
    """Index one version of a document: extract, chunk, embed in batches, replace its chunks.

    Idempotent (point ids derive from document, version and chunk). A version superseded by a newer
    upload, or a deleted document, is skipped. Raises PermanentError for a file that cannot be read
    (the document is marked failed), TransientError when the index is unreachable.
    """
    found = await documents.body(document_id)
    if found is None or found[0].status is DocumentStatus.DELETING:
        return IngestReport(document_id, version, 0, skipped="deleted")
    doc, body = found
    if doc.version != version:
        return IngestReport(document_id, version, 0, skipped="superseded")
    try:
        text = ports.extractor.extract(body, doc.media_type)
    except PermanentError as exc:
        await documents.mark_failed(document_id, version, exc.detail)
        raise
    chunks = chunk_text(text, ports.limits.max_chunk_words)
    started = time.perf_counter()
    vectors = await ports.embedder.embed([c.embedding_text(doc.title) for c in chunks])
    embed_ms = (time.perf_counter() - started) * 1000
    await ports.index.replace(doc.tenant, doc.id, version, doc.title, chunks, vectors)
    if not await documents.mark_indexed(document_id, version, len(chunks)):
        # Deleted (or replaced) while we embedded: the deletion may have run before our upsert.
        if not await documents.live([document_id]):
            await ports.index.remove(doc.tenant, document_id)
        return IngestReport(document_id, version, len(chunks), skipped="superseded", embed_ms=embed_ms)
    return IngestReport(document_id, version, len(chunks), embed_ms=embed_ms)


async def remove_document(
    document_id: uuid.UUID, tenant: str, *, documents: KnowledgeRepository, index: KnowledgeIndex
) -> None:
    """Drop a deleted document's chunks, then its row. Idempotent."""
    await index.remove(tenant, document_id)
    await documents.purge(document_id)


@dataclass(frozen=True, slots=True)
class KnowledgeAnswer:
    reply: str
    mode: str
    """`llm` (grounded and cited), `extractive` (the best passages), or `none` (not found)."""
    sources: list[Passage]


@dataclass(frozen=True, slots=True)
class AnswerPorts:
    embedder: Embedder
    index: KnowledgeIndex
    writer: AnswerWriter | None = None
    """The LLM; without one, answers are the best passages themselves."""
    limits: KnowledgeLimits = field(default_factory=KnowledgeLimits)


async def retrieve(
    question: str, tenants: Sequence[str], *, embedder: Embedder, index: KnowledgeIndex, limit: int
) -> list[Passage]:
    """The passages most similar to the question, best first."""
    [vector] = await embedder.embed([question])
    return await index.search(tenants, vector, limit)


async def answer_question(
    user_id: uuid.UUID, question: str, *, documents: KnowledgeRepository, ports: AnswerPorts
) -> KnowledgeAnswer:
    """An answer from the knowledge bases the user reads, with its sources; "I don't know" when no
    passage scores above the threshold, or when the LLM finds the passages do not contain it."""
    tenants = await documents.tenants_of(user_id)
    if not await documents.has_documents(tenants):
        # A first document is not searchable until it is indexed (seconds; longer while a fresh
        # worker loads its model): saying none were added would be untrue and confusing.
        reading = await documents.being_indexed(tenants)
        return KnowledgeAnswer(STILL_READING if reading else NO_DOCUMENTS, "none", [])
    limits = ports.limits
    found = await retrieve(question, tenants, embedder=ports.embedder, index=ports.index, limit=limits.top_k)
    live = await documents.live(list({p.document_id for p in found}))
    relevant = [p for p in found if p.document_id in live and p.score >= limits.min_score]
    if not relevant:
        return KnowledgeAnswer(DONT_KNOW, "none", [])
    if ports.writer is not None:
        try:
            return await _grounded(question, relevant, ports.writer)
        except (TransientError, PermanentError) as exc:
            log.warning("LLM answer failed; answering with the passages", extra={"error": exc.detail})
    return extractive_answer(relevant[: limits.shown])


async def _grounded(question: str, passages: list[Passage], writer: AnswerWriter) -> KnowledgeAnswer:
    written = await writer.write(question, passages)
    if not written.known or not written.text.strip():
        return KnowledgeAnswer(DONT_KNOW, "llm", [])
    cited = [passages[n - 1] for n in written.cited if 1 <= n <= len(passages)]
    return KnowledgeAnswer(written.text.strip(), "llm", cited or passages)


def extractive_answer(passages: list[Passage]) -> KnowledgeAnswer:
    """The passages themselves, each under its document's title and heading (as stored: they are
    the documents' own words), in English and in Swedish."""
    parts, parts_sv = [], []
    for passage in passages:
        where = place(passage.title, passage.heading)
        parts.append(f"From \u201c{where}\u201d: {passage.text}")
        parts_sv.append(f"Från \u201d{where}\u201d: {passage.text}")
    return KnowledgeAnswer(said("\n\n".join(parts), "\n\n".join(parts_sv)), "extractive", passages)
