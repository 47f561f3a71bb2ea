"""Alembic environment: runs the SQL migrations against the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("set sqlalchemy.url (ops.migrate does it from ERRAND_DATABASE_URL)")

engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        # Two processes migrating at once (two API pods starting) take turns on this lock.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7243001)")
        context.run_migrations()
engine.dispose()
