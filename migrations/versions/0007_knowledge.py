"""Knowledge bases: documents (metadata and the uploaded body) per tenant, organisation members.

The chunks and their vectors live in the vector store (Qdrant), one collection per tenant; this
table is the truth about which documents exist and which version of each is indexed. A tenant is
`user:<id>` (a person's own notes) or `org:<slug>` (a clinic's FAQ, read by its members).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE knowledge_documents (
            id            uuid PRIMARY KEY,
            tenant        text NOT NULL,
            source        text NOT NULL,
            title         text NOT NULL,
            media_type    text NOT NULL,
            body          bytea NOT NULL,
            content_hash  text NOT NULL,
            version       integer NOT NULL DEFAULT 1,
            status        text NOT NULL
                          CHECK (status IN ('indexing', 'ready', 'failed', 'deleting')),
            chunks        integer NOT NULL DEFAULT 0,
            error         text,
            task_id       uuid,
            uploaded_by   uuid REFERENCES users(id) ON DELETE SET NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            updated_at    timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT knowledge_documents_source UNIQUE (tenant, source)
        );
        -- A tenant's documents, newest first (ids are UUIDv7).
        CREATE INDEX knowledge_documents_page ON knowledge_documents (tenant, id DESC);

        CREATE TABLE knowledge_members (
            org         text NOT NULL,
            user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role        text NOT NULL CHECK (role IN ('reader', 'editor')),
            created_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (org, user_id)
        );
        CREATE INDEX knowledge_members_user ON knowledge_members (user_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE knowledge_members; DROP TABLE knowledge_documents;")
