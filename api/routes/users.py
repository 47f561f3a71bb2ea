"""POST /v1/users (admin): a user and its bearer token."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, JsonOnly, ProvidersDep
from api.routes.messages import ERRORS
from api.schemas import CreateUserIn, UserCreated
from domain.services import create_user

router = APIRouter(tags=["users"])


@router.post(
    "/v1/users", status_code=201, response_model=UserCreated, responses=ERRORS, dependencies=[JsonOnly]
)
async def post_user(_: AdminDep, providers: ProvidersDep, body: CreateUserIn | None = None) -> UserCreated:
    """Create a user. The token in the answer is shown once; store it in the app."""
    body = body or CreateUserIn()
    async with providers.uow() as uow:
        user, token = await create_user(timezone=body.timezone, name=body.name, uow=uow)
    return UserCreated(id=user.id, token=token)
