"""The application factory: `create_app(settings)` builds the API around one set of providers."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import errors
from api.auth import TokenCache
from api.fast_path import MessagesFastPath
from api.rate_limit import RateLimiter
from api.routes import (
    admin,
    audio,
    bookings,
    contacts,
    conversation,
    health,
    knowledge,
    messages,
    reminders,
    tasks,
    users,
    venues,
)
from api.upload_limits import EdgeWithUploads
from providers.fallback_parser import WarmsUp
from providers.settings import Settings
from providers.wiring import Providers, build_providers

ROUTE_MODULES = (
    health,
    users,
    messages,
    tasks,
    conversation,
    admin,
    contacts,
    venues,
    bookings,
    reminders,
    knowledge,
    audio,
)


def create_app(settings: Settings, providers: Providers | None = None) -> FastAPI:
    """With `providers` given (tests, benchmarks) the app uses them and leaves closing to the caller."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = providers is None
        app.state.providers = providers or await build_providers(settings)
        if own:
            if settings.intent_warm_up and isinstance(app.state.providers.parser, WarmsUp):
                await asyncio.to_thread(app.state.providers.parser.warm_up)
            _settle_the_heap()
        try:
            yield
        finally:
            if own:
                await app.state.providers.aclose()

    app = FastAPI(
        title="Errand",
        version="0.1.0",
        summary="Turns a person's message into a task that gets done, and tells them how it went.",
        lifespan=lifespan,
    )
    app.state.token_cache = TokenCache(settings.auth_cache_seconds)
    errors.install(app)
    for module in ROUTE_MODULES:
        app.include_router(module.router)
    app.add_middleware(MessagesFastPath, fastapi=app)  # inside the edge: ids, limits, metrics
    app.add_middleware(
        EdgeWithUploads,  # type: ignore[arg-type]  # starlette's factory type cannot take **kwargs
        max_upload_bytes=settings.speech_max_upload_bytes,
        max_body_bytes=settings.max_body_bytes,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        unlimited=frozenset(
            {f"Bearer {settings.admin_token.get_secret_value()}"} if settings.admin_token else ()
        ),
    )
    _declare_bearer_auth(app)
    return app


TOO_MANY_REQUESTS = {
    "description": "The caller's request budget is spent; `Retry-After` says when to come back",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _settle_the_heap() -> None:
    """What start-up loaded (the intent model's vocabulary, the routes, the pools) lives as long as
    the process: moved out of the collector's reach, and young collections made rarer, a request's
    garbage costs less to collect (measured on POST /v1/messages)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


GC_YOUNG_THRESHOLD = 20_000


def _declare_bearer_auth(app: FastAPI) -> None:
    """Bearer auth in the OpenAPI document, for /docs' Authorize button and generated clients."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A user's token; the admin token for /v1/users and /v1/admin",
                }
            }
            for path, operations in schema["paths"].items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
                        operation["responses"].setdefault("429", TOO_MANY_REQUESTS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
