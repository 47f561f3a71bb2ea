"""The knowledge repository: documents' metadata and bodies, and organisation members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from domain.ids import uuid7
from domain.knowledge import DocumentStatus, KnowledgeDocument, NewDocument, content_hash, user_tenant
from domain.ports import UnitOfWork
from providers.postgres.uow import PostgresUnitOfWork

_COLUMNS = """id, tenant, source, title, media_type, content_hash, version, status, chunks, error, task_id,
              created_at, updated_at"""

# Insert, or replace the body of the tenant's document with this source. An identical upload keeps
# its version and task (changed = false); a changed one gets the next version, to be indexed.
_UPSERT = f"""
WITH prev AS (
    SELECT id, content_hash, status FROM knowledge_documents WHERE tenant = $2 AND source = $3
), up AS (
    INSERT INTO knowledge_documents AS d (id, tenant, source, title, media_type, body, content_hash,
                                          status, task_id, uploaded_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'indexing', $8, $9)
    ON CONFLICT (tenant, source) DO UPDATE
       SET title = EXCLUDED.title, media_type = EXCLUDED.media_type, body = EXCLUDED.body,
           content_hash = EXCLUDED.content_hash, version = d.version + 1, status = 'indexing',
           error = NULL, task_id = EXCLUDED.task_id, uploaded_by = EXCLUDED.uploaded_by, updated_at = now()
       WHERE d.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR d.status IN ('failed', 'deleting')
    RETURNING {_COLUMNS}
)
SELECT {_COLUMNS}, true AS changed FROM up
UNION ALL
SELECT {", ".join("d." + c.strip() for c in _COLUMNS.split(","))}, false AS changed
FROM knowledge_documents d JOIN prev ON prev.id = d.id WHERE NOT EXISTS (SELECT 1 FROM up)
"""


def _document(row: asyncpg.Record) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=row["id"],
        tenant=row["tenant"],
        source=row["source"],
        title=row["title"],
        media_type=row["media_type"],
        content_hash=row["content_hash"],
        version=row["version"],
        status=DocumentStatus(row["status"]),
        chunks=row["chunks"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        error=row["error"],
        task_id=row["task_id"],
    )


class PostgresKnowledgeRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def upsert(self, doc: NewDocument, task_id: uuid.UUID) -> tuple[KnowledgeDocument, bool]:
        row = await self._conn.fetchrow(
            _UPSERT,
            uuid7(),
            doc.tenant,
            doc.source,
            doc.title,
            doc.media_type,
            doc.body,
            content_hash(doc.body, doc.title, doc.media_type),
            task_id,
            doc.uploaded_by,
        )
        return _document(row), bool(row["changed"])

    async def get(self, tenants: Sequence[str], document_id: uuid.UUID) -> KnowledgeDocument | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM knowledge_documents WHERE id = $1 AND tenant = ANY($2::text[])",
            document_id,
            list(tenants),
        )
        return _document(row) if row else None

    async def page(
        self, tenants: Sequence[str], limit: int, before: uuid.UUID | None
    ) -> list[KnowledgeDocument]:
        rows = await self._conn.fetch(
            f"""SELECT {_COLUMNS} FROM knowledge_documents
                WHERE tenant = ANY($1::text[]) AND ($2::uuid IS NULL OR id < $2)
                ORDER BY id DESC LIMIT $3""",
            list(tenants),
            before,
            limit,
        )
        return [_document(r) for r in rows]

    async def body(self, document_id: uuid.UUID) -> tuple[KnowledgeDocument, bytes] | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS}, body FROM knowledge_documents WHERE id = $1", document_id
        )
        return (_document(row), bytes(row["body"])) if row else None

    async def mark_indexed(self, document_id: uuid.UUID, version: int, chunks: int) -> bool:
        done = await self._conn.fetchval(
            """UPDATE knowledge_documents SET status = 'ready', chunks = $3, error = NULL, updated_at = now()
               WHERE id = $1 AND version = $2 AND status <> 'deleting' RETURNING id""",
            document_id,
            version,
            chunks,
        )
        return done is not None

    async def mark_failed(self, document_id: uuid.UUID, version: int, error: str) -> None:
        await self._conn.execute(
            """UPDATE knowledge_documents SET status = 'failed', error = $3, updated_at = now()
               WHERE id = $1 AND version = $2 AND status <> 'deleting'""",
            document_id,
            version,
            error[:500],
        )

    async def mark_deleting(
        self, tenants: Sequence[str], document_id: uuid.UUID, task_id: uuid.UUID
    ) -> KnowledgeDocument | None:
        row = await self._conn.fetchrow(
            f"""UPDATE knowledge_documents SET status = 'deleting', task_id = $3, updated_at = now()
                WHERE id = $1 AND tenant = ANY($2::text[]) AND status <> 'deleting' RETURNING {_COLUMNS}""",
            document_id,
            list(tenants),
            task_id,
        )
        return _document(row) if row else None

    async def purge(self, document_id: uuid.UUID) -> None:
        await self._conn.execute(
            "DELETE FROM knowledge_documents WHERE id = $1 AND status = 'deleting'", document_id
        )

    async def live(self, document_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self._conn.fetch(
            """SELECT id FROM knowledge_documents WHERE id = ANY($1::uuid[])
               AND status IN ('ready', 'indexing')""",
            list(document_ids),
        )
        return {r["id"] for r in rows}

    async def has_documents(self, tenants: Sequence[str]) -> bool:
        return bool(
            await self._conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM knowledge_documents WHERE tenant = ANY($1::text[])
                   AND chunks > 0 AND status IN ('ready', 'indexing'))""",
                list(tenants),
            )
        )

    async def being_indexed(self, tenants: Sequence[str]) -> bool:
        return bool(
            await self._conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM knowledge_documents WHERE tenant = ANY($1::text[])
                   AND status = 'indexing')""",
                list(tenants),
            )
        )

    async def any_documents(self) -> bool:
        return bool(await self._conn.fetchval("SELECT EXISTS (SELECT 1 FROM knowledge_documents)"))

    async def tenants_of(self, user_id: uuid.UUID) -> list[str]:
        orgs = await self._conn.fetch(
            "SELECT org FROM knowledge_members WHERE user_id = $1 ORDER BY org", user_id
        )
        return [user_tenant(user_id), *(f"org:{r['org']}" for r in orgs)]

    async def is_editor(self, user_id: uuid.UUID, org: str) -> bool:
        role = await self._conn.fetchval(
            "SELECT role FROM knowledge_members WHERE org = $1 AND user_id = $2", org, user_id
        )
        return bool(role == "editor")

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        return bool(await self._conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)", user_id))

    async def set_member(self, org: str, user_id: uuid.UUID, role: str | None) -> bool:
        if role is None:
            status = await self._conn.execute(
                "DELETE FROM knowledge_members WHERE org = $1 AND user_id = $2", org, user_id
            )
            return bool(status != "DELETE 0")
        status = await self._conn.execute(
            """INSERT INTO knowledge_members (org, user_id, role)
               SELECT $1, id, $3 FROM users WHERE id = $2
               ON CONFLICT (org, user_id) DO UPDATE SET role = EXCLUDED.role""",
            org,
            user_id,
            role,
        )
        return bool(status != "INSERT 0 0")


def knowledge_repository(uow: UnitOfWork) -> PostgresKnowledgeRepository:
    """The repository on the unit of work's connection (domain.knowledge.KnowledgeRepositories)."""
    if not isinstance(uow, PostgresUnitOfWork):
        raise TypeError(f"knowledge needs a PostgreSQL unit of work, not {type(uow).__name__}")
    return PostgresKnowledgeRepository(uow.conn)
