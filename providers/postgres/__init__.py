"""PostgreSQL: the pool, the unit of work and the repositories. ORM-free asyncpg, rows never leave here."""
