"""Wire models of the knowledge endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.knowledge import DocumentStatus, KnowledgeDocument
from domain.knowledge_services import Submitted

TextMediaType = Literal["text/markdown", "text/plain", "text/html"]


class DocumentIn(BaseModel):
    """A document sent as JSON text. Files (PDF included) go as multipart/form-data instead."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1)
    source: str | None = Field(
        default=None,
        max_length=500,
        description="Its key: the same source again replaces it (default: title)",
    )
    media_type: TextMediaType = "text/markdown"
    org: str | None = Field(
        default=None, max_length=63, description="An organisation's knowledge base (editors only)"
    )


class DocumentOut(BaseModel):
    id: uuid.UUID
    title: str
    source: str
    media_type: str
    owner: str = Field(description="`user:<id>` or `org:<name>`")
    status: DocumentStatus
    version: int
    chunks: int
    error: str | None
    task_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, doc: KnowledgeDocument) -> DocumentOut:
        return cls(
            id=doc.id,
            title=doc.title,
            source=doc.source,
            media_type=doc.media_type,
            owner=doc.tenant,
            status=doc.status,
            version=doc.version,
            chunks=doc.chunks,
            error=doc.error,
            task_id=doc.task_id,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


class DocumentAccepted(BaseModel):
    document: DocumentOut
    task_id: uuid.UUID | None = Field(description="The ingest (or delete) task; null when nothing changed")
    status_url: str | None

    @classmethod
    def of(cls, submitted: Submitted) -> DocumentAccepted:
        task = submitted.task
        return cls(
            document=DocumentOut.of(submitted.document),
            task_id=task.id if task else None,
            status_url=f"/v1/tasks/{task.id}" if task else None,
        )


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    next_cursor: str | None


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["reader", "editor"]
