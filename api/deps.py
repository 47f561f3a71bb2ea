"""FastAPI dependencies, all in one place: providers, the caller, the admin check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPBearer

from api.auth import TokenCache, authenticate, check_admin
from api.errors import UnsupportedMediaType
from domain.users import User
from providers.wiring import Providers

_bearer = HTTPBearer(auto_error=False, description="A user's token, or the admin token for /v1/admin")


def get_providers(request: Request) -> Providers:
    providers: Providers = request.app.state.providers
    return providers


ProvidersDep = Annotated[Providers, Depends(get_providers)]


async def current_user(
    request: Request,
    providers: ProvidersDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _: Annotated[object, Depends(_bearer)] = None,
) -> User:
    cache: TokenCache = request.app.state.token_cache
    return await authenticate(authorization, cache=cache, uow=providers.uow)


async def admin(
    providers: ProvidersDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _: Annotated[object, Depends(_bearer)] = None,
) -> None:
    token = providers.settings.admin_token
    check_admin(authorization, token.get_secret_value() if token else None)


UserDep = Annotated[User, Depends(current_user)]
AdminDep = Annotated[None, Depends(admin)]


def json_only(request: Request) -> None:
    """Bodies must be JSON: anything else is a 415, not a confusing validation error."""
    content_type = request.headers.get("content-type", "")
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    media = content_type.split(";", 1)[0].strip().lower()
    if (content_type or has_body) and not (media == "application/json" or media.endswith("+json")):
        raise UnsupportedMediaType(f"send the body as application/json, not {media or 'no content type'}")


JsonOnly = Depends(json_only)
