"""The notify tests' settings: webhooks may reach this machine's receivers (127.0.0.1), which the
production default refuses; tests that check the refusal build their own providers without it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from providers.settings import Settings
from providers.wiring import Providers, build_providers
from tests.conftest import Services, _delete_prefix, make_settings


def notify_settings(services: Services, **overrides: object) -> Settings:
    values: dict[str, object] = {"webhooks_allow_private": True, "webhooks_timeout_seconds": 2.0}
    values.update(overrides)
    return make_settings(services, **values)


@pytest.fixture
def settings(services: Services) -> Settings:
    return notify_settings(services)


@contextlib.asynccontextmanager
async def other_providers(settings: Settings) -> AsyncIterator[Providers]:
    """Providers of another process with other settings (same database; the Redis prefix given)."""
    built = await build_providers(settings)
    try:
        yield built
    finally:
        await built.aclose()
        with contextlib.suppress(Exception):
            await _delete_prefix(settings.redis_url, settings.redis_prefix)


@contextlib.asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with other_providers(settings) as providers:
        app = create_app(settings, providers)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://errand.test") as http:
                yield http


@pytest.fixture
async def remove_notify_tasks(providers: Providers) -> AsyncIterator[None]:
    """Tests here leave notify tasks dead-lettered or awaiting a retry on purpose. The database is
    shared by the session: the admin DLQ lists every dead letter (and tests/workers/test_pipeline.py
    expects only its own there), and a later test's scheduler would relay a pending retry. So after
    each test its notify tasks are removed (their deliveries go with them)."""
    yield
    async with providers.pool.acquire() as conn:
        await conn.execute(
            "DELETE FROM tasks WHERE kind IN ('notify_family', 'notify_contact', 'notify_app')"
        )
