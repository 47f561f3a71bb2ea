"""Users: POST /v1/users (admin) makes one with its bearer token; /v1/me/webhook is the caller's own
app webhook, where their reminders are pushed, with its secret and its delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.contact_schemas import (
    AppWebhookIn,
    AppWebhookOut,
    AppWebhookSetOut,
    DeliveryOut,
    DeliveryPage,
    SecretOut,
)
from api.deps import AdminDep, JsonOnly, ProvidersDep, UserDep
from api.routes.contacts import contacts_uow, destination_guard
from api.routes.messages import ERRORS
from api.routes.tasks import decode_cursor, encode_cursor
from api.schemas import CreateUserIn, UserCreated
from domain.app_webhooks import (
    delete_app_webhook,
    get_app_webhook,
    list_app_deliveries,
    replay_app_delivery,
    rotate_app_secret,
    set_app_webhook,
)
from domain.services import create_user

router = APIRouter(tags=["users"])
WEBHOOK = "/v1/me/webhook"


@router.post(
    "/v1/users", status_code=201, response_model=UserCreated, responses=ERRORS, dependencies=[JsonOnly]
)
async def post_user(_: AdminDep, providers: ProvidersDep, body: CreateUserIn | None = None) -> UserCreated:
    """Create a user. The token in the answer is shown once; store it in the app."""
    body = body or CreateUserIn()
    async with providers.uow() as uow:
        user, token = await create_user(timezone=body.timezone, name=body.name, uow=uow)
    return UserCreated(id=user.id, token=token)


@router.put(WEBHOOK, response_model=AppWebhookSetOut, responses=ERRORS, dependencies=[JsonOnly])
async def put_webhook(
    body: AppWebhookIn, user: UserDep, providers: ProvidersDep, response: Response
) -> AppWebhookSetOut:
    """Register the app webhook (201, with its secret, once) or point it at a new URL (200, the
    secret stays). The URL must reach a public address, as a contact's must."""
    async with contacts_uow(providers)() as uow:
        done = await set_app_webhook(
            user, body.url, body.secret, uow=uow, guard=destination_guard(providers), clock=providers.clock
        )
    response.status_code = 201 if done.secret is not None else 200
    return AppWebhookSetOut.of_set(done)


@router.get(WEBHOOK, response_model=AppWebhookOut, responses=ERRORS)
async def read_webhook(user: UserDep, providers: ProvidersDep) -> AppWebhookOut:
    """The app webhook (never its secret); 404 when none is registered."""
    async with contacts_uow(providers)() as uow:
        return AppWebhookOut.of(await get_app_webhook(user, uow=uow))


@router.delete(WEBHOOK, status_code=204, response_class=Response, responses=ERRORS)
async def delete_webhook(user: UserDep, providers: ProvidersDep) -> Response:
    """Stop pushing: the secret and the delivery log go; pushes still queued are not sent."""
    async with contacts_uow(providers)() as uow:
        await delete_app_webhook(user, uow=uow)
    return Response(status_code=204)


@router.post(f"{WEBHOOK}/rotate-secret", response_model=SecretOut, responses=ERRORS)
async def rotate_webhook_secret(user: UserDep, providers: ProvidersDep) -> SecretOut:
    """A new signing secret, shown once. The old one keeps signing alongside it for a grace period."""
    grace = providers.settings.webhooks_secret_grace_seconds
    async with contacts_uow(providers)() as uow:
        rotated = await rotate_app_secret(user, uow=uow, grace_seconds=grace)
    return SecretOut.of(rotated)


@router.get(f"{WEBHOOK}/deliveries", response_model=DeliveryPage, responses=ERRORS)
async def read_webhook_deliveries(
    user: UserDep,
    providers: ProvidersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DeliveryPage:
    """Pushes to the app webhook, newest first, each with every attempt."""
    async with contacts_uow(providers)() as uow:
        items, next_id = await list_app_deliveries(user, limit=limit, cursor=decode_cursor(cursor), uow=uow)
    return DeliveryPage(items=[DeliveryOut.of(d) for d in items], next_cursor=encode_cursor(next_id))


@router.post(
    f"{WEBHOOK}/deliveries/{{delivery_id}}/replay",
    status_code=202,
    response_model=DeliveryOut,
    responses=ERRORS,
)
async def replay_webhook_delivery(
    delivery_id: uuid.UUID, user: UserDep, providers: ProvidersDep
) -> DeliveryOut:
    """Send a dead push again with fresh attempts. 409 if it succeeded or is still retrying."""
    async with contacts_uow(providers)() as uow:
        delivery = await replay_app_delivery(
            user, delivery_id, uow=uow, queue=providers.streams, dlq=providers.streams
        )
    return DeliveryOut.of(delivery)
