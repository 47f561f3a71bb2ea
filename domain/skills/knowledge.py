"""Knowledge skills (lane `answer`): index a document's version, remove a deleted document, and
answer a question from the knowledge bases the person reads.

Only these skills use the embedder and the vector index, so with an embedded index exactly one
process (the answer lane's worker) opens it.
"""

from __future__ import annotations

import uuid
from typing import Any

from domain.knowledge import (
    DELETE_SKILL,
    INGEST_SKILL,
    AnswerWriter,
    Embedder,
    KnowledgeIndex,
    KnowledgeLimits,
    KnowledgeRepositories,
    TextExtractor,
)
from domain.knowledge_services import (
    AnswerPorts,
    IngestPorts,
    KnowledgeAnswer,
    answer_question,
    ingest_document,
    remove_document,
)
from domain.skills import Skill, SkillContext
from domain.tasks import Lane, Outcome, RetryPolicy, Task


def _optional(ctx: SkillContext, kind: type[Any]) -> Any:
    try:
        return ctx.port(kind)
    except LookupError:
        return None


def _limits(ctx: SkillContext) -> KnowledgeLimits:
    return _optional(ctx, KnowledgeLimits) or KnowledgeLimits()


def knowledge_wired(ctx: SkillContext) -> bool:
    return KnowledgeRepositories in ctx.ports and Embedder in ctx.ports and KnowledgeIndex in ctx.ports


async def ingest(task: Task, ctx: SkillContext) -> Outcome:
    document_id, version = uuid.UUID(task.input["document_id"]), int(task.input["version"])
    ports = IngestPorts(
        extractor=ctx.port(TextExtractor),
        embedder=ctx.port(Embedder),
        index=ctx.port(KnowledgeIndex),
        limits=_limits(ctx),
    )
    repositories: KnowledgeRepositories = ctx.port(KnowledgeRepositories)
    async with ctx.uow() as uow:
        report = await ingest_document(document_id, version, documents=repositories(uow), ports=ports)
    result = {"kind": "knowledge_indexed", "document_id": str(document_id), "version": version}
    result |= {"chunks": report.chunks, "skipped": report.skipped, "embed_ms": round(report.embed_ms, 1)}
    return Outcome.succeeded(result=result)


async def delete(task: Task, ctx: SkillContext) -> Outcome:
    document_id = uuid.UUID(task.input["document_id"])
    repositories: KnowledgeRepositories = ctx.port(KnowledgeRepositories)
    async with ctx.uow() as uow:
        await remove_document(
            document_id,
            str(task.input["tenant"]),
            documents=repositories(uow),
            index=ctx.port(KnowledgeIndex),
        )
    return Outcome.succeeded(result={"kind": "knowledge_deleted", "document_id": str(document_id)})


async def answer(task: Task, ctx: SkillContext) -> KnowledgeAnswer:
    """The knowledge answer to the task's question (its `question` slot, else the message)."""
    question = str(task.slots.get("question") or task.input.get("text", ""))
    ports = AnswerPorts(
        embedder=ctx.port(Embedder),
        index=ctx.port(KnowledgeIndex),
        writer=_optional(ctx, AnswerWriter),
        limits=_limits(ctx),
    )
    repositories: KnowledgeRepositories = ctx.port(KnowledgeRepositories)
    async with ctx.uow() as uow:
        return await answer_question(task.user_id, question, documents=repositories(uow), ports=ports)


async def warm_up(ctx: SkillContext) -> bool:
    """Load the embedding model before the first question, if there are documents to answer from
    (an answer worker of a deployment without any stays light). True when it was loaded."""
    if not knowledge_wired(ctx):
        return False
    repositories: KnowledgeRepositories = ctx.port(KnowledgeRepositories)
    async with ctx.uow() as uow:
        if not await repositories(uow).any_documents():
            return False
    embedder: Embedder = ctx.port(Embedder)
    await embedder.embed(["warm up"])
    return True


_RETRY = RetryPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=60.0)

INGEST = Skill(name=INGEST_SKILL, lane=Lane.ANSWER, handler=ingest, retry=_RETRY, timeout_seconds=300.0)
DELETE = Skill(name=DELETE_SKILL, lane=Lane.ANSWER, handler=delete, retry=_RETRY, timeout_seconds=60.0)

SKILLS = [INGEST, DELETE]
ROUTES: dict[str, str] = {}
