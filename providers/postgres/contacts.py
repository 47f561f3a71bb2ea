"""Contacts and the webhook delivery log in PostgreSQL, and the unit of work that carries them (with
the person's own app webhook, providers.postgres.app_webhooks).

Secrets are read only by `signing_target`, for the sender; no other query selects them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from domain.contacts import Contact, Topic, consents_of
from domain.notify_ports import (
    Attempt,
    Claim,
    Delivery,
    DeliveryStatus,
    NewDelivery,
    SigningTarget,
)
from domain.ports import NewTask
from domain.tasks import Task
from domain.webhooks import AttemptResult, SendReport
from providers.postgres.app_webhooks import PostgresAppWebhookRepository
from providers.postgres.rows import TASK_COLUMNS, task_from_row
from providers.postgres.uow import PostgresUnitOfWork

_CONTACT = "id, user_id, name, relation, webhook_url, consents, created_at, updated_at"
_C_CONTACT = ", ".join("c." + c.strip() for c in _CONTACT.split(","))


def _contact(row: Any) -> Contact:
    return Contact(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        relation=row["relation"],
        webhook_url=row["webhook_url"],
        consents=consents_of(row["consents"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class PostgresContactRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, contact: Contact, secret: str) -> None:
        await self._conn.execute(
            """INSERT INTO contacts (id, user_id, name, relation, webhook_url, consents, secret,
                                     created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)""",
            contact.id,
            contact.user_id,
            contact.name,
            contact.relation,
            contact.webhook_url,
            sorted(contact.consents),
            secret,
            contact.created_at,
        )

    async def count(self, user_id: uuid.UUID) -> int:
        return int(await self._conn.fetchval("SELECT count(*) FROM contacts WHERE user_id = $1", user_id))

    async def of_user(self, user_id: uuid.UUID) -> list[Contact]:
        rows = await self._conn.fetch(
            f"SELECT {_CONTACT} FROM contacts WHERE user_id = $1 ORDER BY id", user_id
        )
        return [_contact(r) for r in rows]

    async def get(self, user_id: uuid.UUID, contact_id: uuid.UUID) -> Contact | None:
        row = await self._conn.fetchrow(
            f"SELECT {_CONTACT} FROM contacts WHERE id = $1 AND user_id = $2", contact_id, user_id
        )
        return _contact(row) if row else None

    async def update(self, contact: Contact) -> Contact | None:
        row = await self._conn.fetchrow(
            f"""UPDATE contacts SET name = $3, relation = $4, webhook_url = $5, consents = $6,
                                    updated_at = now()
                WHERE id = $1 AND user_id = $2 RETURNING {_CONTACT}""",
            contact.id,
            contact.user_id,
            contact.name,
            contact.relation,
            contact.webhook_url,
            sorted(contact.consents),
        )
        return _contact(row) if row else None

    async def delete(self, user_id: uuid.UUID, contact_id: uuid.UUID) -> bool:
        deleted = await self._conn.fetchval(
            "DELETE FROM contacts WHERE id = $1 AND user_id = $2 RETURNING id", contact_id, user_id
        )
        return deleted is not None

    async def rotate_secret(
        self, user_id: uuid.UUID, contact_id: uuid.UUID, secret: str, grace_seconds: float
    ) -> datetime | None:
        until: datetime | None = await self._conn.fetchval(
            """UPDATE contacts SET previous_secret = secret, secret = $3,
                                   previous_secret_until = now() + make_interval(secs => $4),
                                   updated_at = now()
               WHERE id = $1 AND user_id = $2 RETURNING previous_secret_until""",
            contact_id,
            user_id,
            secret,
            grace_seconds,
        )
        return until

    async def consenting(self, user_id: uuid.UUID, topic: Topic) -> list[Contact]:
        rows = await self._conn.fetch(
            f"SELECT {_CONTACT} FROM contacts WHERE user_id = $1 AND $2 = ANY(consents) ORDER BY id",
            user_id,
            topic,
        )
        return [_contact(r) for r in rows]

    async def signing_target(self, user_id: uuid.UUID, contact_id: uuid.UUID) -> SigningTarget | None:
        row = await self._conn.fetchrow(
            f"""SELECT {_C_CONTACT}, u.name AS sender_name, c.secret,
                       CASE WHEN c.previous_secret_until > now() THEN c.previous_secret END AS previous
                FROM contacts c JOIN users u ON u.id = c.user_id
                WHERE c.id = $1 AND c.user_id = $2""",
            contact_id,
            user_id,
        )
        if row is None:
            return None
        secrets = (row["secret"],) + ((row["previous"],) if row["previous"] else ())
        return SigningTarget(_contact(row), secrets, row["sender_name"])


_DELIVERY = (
    "id, contact_id, app_webhook_id, task_id, event_type, status, attempts, created_at, updated_at, "
    "delivered_at, last_status_code, last_error, body"
)

# Create the delivery, or take it up again: never once it succeeded, nor while another run's lease
# on it lasts. One statement, so the check and the claim cannot be separated by another run.
_CLAIM = f"""
INSERT INTO webhook_deliveries AS d (id, contact_id, app_webhook_id, task_id, event_type, body, status,
                                     attempts, sending_until)
VALUES ($1, $2, $7, $3, $4, $5, 'sending', 1, now() + make_interval(secs => $6))
ON CONFLICT (id) DO UPDATE SET status = 'sending', attempts = d.attempts + 1,
                               sending_until = EXCLUDED.sending_until, updated_at = now()
WHERE d.status IN ('retrying', 'dead') OR (d.status = 'sending' AND d.sending_until < now())
RETURNING {_DELIVERY}
"""

# The attempt is logged even if this run lost the delivery meanwhile (it did happen); the delivery
# moves only if this run still holds it. A second success for one delivery is not recorded.
_RECORD = """
WITH d AS (
    UPDATE webhook_deliveries SET status = $5, sending_until = NULL, last_status_code = $3,
           last_error = $4, updated_at = now(),
           delivered_at = CASE WHEN $5 = 'succeeded' THEN now() ELSE delivered_at END
    WHERE id = $1 AND status = 'sending' AND attempts = $2
)
INSERT INTO webhook_attempts (delivery_id, attempt, result, status_code, error, duration_ms)
VALUES ($1, $2, $6, $3, $4, $7)
ON CONFLICT (delivery_id) WHERE result = 'delivered' DO NOTHING
"""

# An endpoint is a contact or an app webhook; their ids (UUIDv7) never collide.
_PAGE = f"""
SELECT {_DELIVERY} FROM webhook_deliveries
WHERE (contact_id = $1 OR app_webhook_id = $1)
  AND ($2::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM webhook_deliveries WHERE id = $2))
ORDER BY created_at DESC, id DESC LIMIT $3
"""

# Notification tasks with derived ids: one that exists already is left alone. Conversations,
# tasks and first events in one statement, like the core's insert.
_ENQUEUE = f"""
WITH req AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                         $7::jsonb[], $8::jsonb[], $9::int[], $10::text[])
        AS r(id, user_id, conversation_id, kind, lane, intent, slots, input, max_attempts, reason)
), conv AS (
    INSERT INTO conversations (id, user_id) SELECT DISTINCT conversation_id, user_id FROM req
    ON CONFLICT (id) DO NOTHING
), t AS (
    INSERT INTO tasks (id, user_id, conversation_id, kind, lane, intent, slots, input, parser, status,
                       max_attempts, published_at)
    SELECT id, user_id, conversation_id, kind, lane, intent, slots, input, 'system', 'queued',
           max_attempts, CASE WHEN $11 THEN now() END
    FROM req
    ON CONFLICT (id) DO NOTHING
    RETURNING {TASK_COLUMNS}
), e AS (
    INSERT INTO task_events (task_id, from_status, to_status, reason)
    SELECT t.id, NULL, 'queued', req.reason FROM t JOIN req ON req.id = t.id
)
SELECT {TASK_COLUMNS} FROM t
"""


def _delivery(row: Any, log: Sequence[Attempt] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        contact_id=row["contact_id"],
        app_webhook_id=row["app_webhook_id"],
        task_id=row["task_id"],
        event_type=row["event_type"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        delivered_at=row["delivered_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        body=row["body"],
        log=tuple(log),
    )


def _attempt(row: Any) -> Attempt:
    return Attempt(
        attempt=row["attempt"],
        at=row["at"],
        result=AttemptResult(row["result"]),
        status_code=row["status_code"],
        error=row["error"],
        duration_ms=row["duration_ms"],
    )


class PostgresDeliveryLog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def claim(self, new: NewDelivery, lease_seconds: float) -> Claim:
        row = await self._conn.fetchrow(
            _CLAIM,
            new.id,
            new.contact_id,
            new.task_id,
            new.event_type,
            new.body,
            lease_seconds,
            new.app_webhook_id,
        )
        if row is not None:
            return Claim(_delivery(row), DeliveryStatus.SENDING)
        status = await self._conn.fetchval("SELECT status FROM webhook_deliveries WHERE id = $1", new.id)
        return Claim(None, DeliveryStatus(status))

    async def record(
        self,
        delivery_id: uuid.UUID,
        attempt: int,
        result: AttemptResult,
        report: SendReport,
        status: DeliveryStatus,
    ) -> None:
        await self._conn.execute(
            _RECORD,
            delivery_id,
            attempt,
            report.status_code,
            report.error,
            status.value,
            result.value,
            report.duration_ms,
        )

    async def page(self, endpoint_id: uuid.UUID, limit: int, before: uuid.UUID | None) -> list[Delivery]:
        rows = await self._conn.fetch(_PAGE, endpoint_id, before, limit)
        return await self._with_attempts(rows)

    async def get(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Delivery | None:
        rows = await self._conn.fetch(
            f"""SELECT {_DELIVERY} FROM webhook_deliveries
                WHERE id = $1 AND (contact_id = $2 OR app_webhook_id = $2)""",
            delivery_id,
            endpoint_id,
        )
        found = await self._with_attempts(rows)
        return found[0] if found else None

    async def _with_attempts(self, rows: Sequence[Any]) -> list[Delivery]:
        if not rows:
            return []
        attempts = await self._conn.fetch(
            """SELECT delivery_id, attempt, at, result, status_code, error, duration_ms
               FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY id""",
            [r["id"] for r in rows],
        )
        by_delivery: dict[uuid.UUID, list[Attempt]] = {}
        for a in attempts:
            by_delivery.setdefault(a["delivery_id"], []).append(_attempt(a))
        return [_delivery(r, by_delivery.get(r["id"], ())) for r in rows]

    async def reopen(self, delivery_id: uuid.UUID) -> None:
        await self._conn.execute(
            """UPDATE webhook_deliveries SET status = 'retrying', sending_until = NULL, updated_at = now()
               WHERE id = $1 AND status <> 'succeeded'""",
            delivery_id,
        )

    async def enqueue(self, tasks: Sequence[NewTask]) -> list[Task]:
        if not tasks:
            return []
        cols: tuple[list[object], ...] = tuple([] for _ in range(10))
        for t in tasks:
            values = (
                t.id, t.user_id, t.conversation_id, t.kind, t.lane.value, t.intent,
                t.slots, t.input, t.max_attempts, t.reason,
            )  # fmt: skip
            for col, value in zip(cols, values, strict=True):
                col.append(value)
        presumed_published = all(t.presumed_published for t in tasks)
        rows = await self._conn.fetch(_ENQUEUE, *cols, presumed_published)
        return [task_from_row(r) for r in rows]


class PostgresContactsUnitOfWork(PostgresUnitOfWork):
    """The core unit of work plus contacts, the app webhook and the delivery log, on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self.contacts = PostgresContactRepository(conn)
        self.app_webhooks = PostgresAppWebhookRepository(conn)
        self.deliveries = PostgresDeliveryLog(conn)


class PostgresContactsUnitOfWorkFactory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PostgresContactsUnitOfWork]:
        async with self._pool.acquire() as conn:
            yield PostgresContactsUnitOfWork(conn)
