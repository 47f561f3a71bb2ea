"""Confirm or cancel a task, parse without side effects, and the caller's own settings."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import JsonOnly, ProvidersDep, TokenCacheDep, UserDep
from api.routes.messages import ERRORS
from api.routes.venues import booking_store
from api.schemas import MeIn, MeOut, ParseIn, ParseOut, TaskOut
from domain.booking_services import cancel_task_and_release_hold
from domain.services import confirm_task, parse_message, update_settings

router = APIRouter(tags=["conversation"])


@router.post("/v1/tasks/{task_id}/confirm", response_model=TaskOut, responses=ERRORS)
async def confirm(task_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> TaskOut:
    """Yes to the read-back: the action is queued. 409 if the task is not awaiting a confirmation."""
    async with providers.uow() as uow:
        task = await confirm_task(user, task_id, uow=uow, queue=providers.streams)
    return TaskOut.of(task)


@router.post("/v1/tasks/{task_id}/cancel", response_model=TaskOut, responses=ERRORS)
async def cancel(task_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> TaskOut:
    """Cancel a task that has not started (a slot it held is free at once). 409 once it runs or has
    finished."""
    async with providers.uow() as uow:
        task = await cancel_task_and_release_hold(user, task_id, uow=uow, store=booking_store(providers))
    return TaskOut.of(task)


@router.post("/v1/parse", response_model=ParseOut, responses=ERRORS, dependencies=[JsonOnly])
async def parse(body: ParseIn, user: UserDep, providers: ProvidersDep) -> ParseOut:
    """What a message would become (intent, slots, confidence, missing slots), with no side effect."""
    parsed = await parse_message(
        user, body.text, now=body.now, timezone=body.timezone, parser=providers.parser, clock=providers.clock
    )
    return ParseOut.of(parsed)


@router.get("/v1/me", response_model=MeOut, responses=ERRORS)
async def read_me(user: UserDep) -> MeOut:
    return MeOut.of(user)


@router.patch("/v1/me", response_model=MeOut, responses=ERRORS, dependencies=[JsonOnly])
async def patch_me(body: MeIn, user: UserDep, providers: ProvidersDep, cache: TokenCacheDep) -> MeOut:
    """Change the time zone, the name, whether reminders are read back before they are set, the
    language of replies and voices (`en`, `sv`, or `auto`: detected per message), and whether every
    reply is spoken."""
    async with providers.uow() as uow:
        updated = await update_settings(
            user,
            timezone=body.timezone,
            name=body.name,
            confirm_reminders=body.confirm_reminders,
            uow=uow,
            language=body.language,
            speak=body.speak,
        )
    cache.forget(user.id)
    return MeOut.of(updated)
