"""Adapters to the world (PostgreSQL, Redis, vendors) behind the Protocols in domain.ports."""
