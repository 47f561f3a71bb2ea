"""FastAPI dependencies, all in one place: providers, the caller, the admin check, JSON bodies.

Each is one `async def` reading the request directly: FastAPI runs plain functions in a thread
pool, and every nested dependency costs time on the hot path. The bearer scheme is declared in
the OpenAPI document by `api.app` instead of by a security dependency.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import Headers

from api.auth import TokenCache, authenticate, check_admin
from api.errors import UnsupportedMediaType
from domain.users import User
from providers.wiring import Providers


async def get_providers(request: Request) -> Providers:
    providers: Providers = request.app.state.providers
    return providers


async def current_user(request: Request) -> User:
    cache: TokenCache = request.app.state.token_cache
    providers: Providers = request.app.state.providers
    return await authenticate(request.headers.get("authorization"), cache=cache, uow=providers.uow)


async def admin(request: Request) -> None:
    token = request.app.state.providers.settings.admin_token
    check_admin(request.headers.get("authorization"), token.get_secret_value() if token else None)


async def json_only(request: Request) -> None:
    require_json(request.headers)


def require_json(headers: Headers, *, multipart: bool = False) -> bool:
    """Bodies must be JSON: anything else is a 415, not a confusing validation error. With
    `multipart` (a route that also takes uploads), True says the body is multipart/form-data."""
    content_type = headers.get("content-type", "")
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    media = content_type.split(";", 1)[0].strip().lower()
    if (content_type or has_body) and not (media == "application/json" or media.endswith("+json")):
        if multipart and media == "multipart/form-data":
            return True
        allowed = "application/json or multipart/form-data" if multipart else "application/json"
        raise UnsupportedMediaType(f"send the body as {allowed}, not {media or 'no content type'}")
    return False


async def get_token_cache(request: Request) -> TokenCache:
    cache: TokenCache = request.app.state.token_cache
    return cache


ProvidersDep = Annotated[Providers, Depends(get_providers)]
TokenCacheDep = Annotated[TokenCache, Depends(get_token_cache)]
UserDep = Annotated[User, Depends(current_user)]
AdminDep = Annotated[None, Depends(admin)]
JsonOnly = Depends(json_only)
