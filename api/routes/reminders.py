"""The caller's reminders: list, pause, resume, delete; their occurrences, acknowledgements, adherence;
and the escalation ladder. Reminders are set by messages (the set_reminder skill)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import JsonOnly, ProvidersDep, UserDep
from api.reminder_schemas import (
    AdherenceOut,
    EscalationIO,
    OccurrenceList,
    OccurrenceOut,
    ReminderList,
    ReminderOut,
)
from api.routes.messages import ERRORS
from domain.ports import UnitOfWork
from domain.reminder_services import (
    VISIBLE,
    ack_occurrence,
    adherence,
    delete_reminder,
    escalation_policy,
    get_reminder,
    list_reminders,
    pause_reminder,
    reminder_occurrences,
    resume_reminder,
    set_escalation_policy,
)
from domain.reminders import ReminderRepositories, ReminderRepository, ReminderStatus
from providers.wiring import Providers

router = APIRouter(tags=["reminders"], prefix="/v1/reminders")


def _repo(providers: Providers, uow: UnitOfWork) -> ReminderRepository:
    factory: ReminderRepositories = providers.skill_ports[ReminderRepositories]  # type: ignore[assignment]
    return factory(uow)


@router.get("", response_model=ReminderList, responses=ERRORS)
async def read_reminders(
    user: UserDep, providers: ProvidersDep, status: ReminderStatus | None = None
) -> ReminderList:
    """The caller's reminders (active, paused and finished unless `status` says), oldest first."""
    async with providers.uow() as uow:
        found = await list_reminders(
            user.id, reminders=_repo(providers, uow), statuses=(status,) if status else VISIBLE
        )
    now = providers.clock.now()
    return ReminderList(items=[ReminderOut.of(r, now, user.language) for r in found])


@router.get("/escalation", response_model=EscalationIO, responses=ERRORS)
async def read_escalation(user: UserDep, providers: ProvidersDep) -> EscalationIO:
    """The caller's escalation ladder (default: re-prompt after 10 min, the family after 30)."""
    async with providers.uow() as uow:
        return EscalationIO.of(await escalation_policy(user.id, reminders=_repo(providers, uow)))


@router.put("/escalation", response_model=EscalationIO, responses=ERRORS, dependencies=[JsonOnly])
async def write_escalation(body: EscalationIO, user: UserDep, providers: ProvidersDep) -> EscalationIO:
    """Replace the ladder; it applies to doses fired from now on. Each step runs at most once per dose."""
    async with providers.uow() as uow:
        policy = await set_escalation_policy(user.id, body.policy(), reminders=_repo(providers, uow))
    return EscalationIO.of(policy)


@router.get("/{reminder_id}", response_model=ReminderOut, responses=ERRORS)
async def read_reminder(reminder_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> ReminderOut:
    async with providers.uow() as uow:
        reminder = await get_reminder(user.id, reminder_id, reminders=_repo(providers, uow))
    return ReminderOut.of(reminder, providers.clock.now(), user.language)


@router.post("/{reminder_id}/pause", response_model=ReminderOut, responses=ERRORS)
async def pause(reminder_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> ReminderOut:
    """Stop firing (and escalating) until resumed."""
    async with providers.uow() as uow:
        reminder = await pause_reminder(user.id, reminder_id, reminders=_repo(providers, uow))
    return ReminderOut.of(reminder, providers.clock.now(), user.language)


@router.post("/{reminder_id}/resume", response_model=ReminderOut, responses=ERRORS)
async def resume(reminder_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> ReminderOut:
    """Fire again from the next occurrence; the ones that fell in the pause are skipped."""
    now = providers.clock.now()
    async with providers.uow() as uow:
        reminder = await resume_reminder(user.id, reminder_id, now, reminders=_repo(providers, uow))
    return ReminderOut.of(reminder, now, user.language)


@router.delete("/{reminder_id}", status_code=204, responses=ERRORS)
async def delete(reminder_id: uuid.UUID, user: UserDep, providers: ProvidersDep) -> Response:
    async with providers.uow() as uow:
        await delete_reminder(user.id, reminder_id, reminders=_repo(providers, uow))
    return Response(status_code=204)


@router.get("/{reminder_id}/occurrences", response_model=OccurrenceList, responses=ERRORS)
async def read_occurrences(
    reminder_id: uuid.UUID,
    user: UserDep,
    providers: ProvidersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OccurrenceList:
    """The reminder's ledger, newest first: when each dose was due, fired and acknowledged."""
    async with providers.uow() as uow:
        found = await reminder_occurrences(user.id, reminder_id, limit, reminders=_repo(providers, uow))
    return OccurrenceList(items=[OccurrenceOut.of(o) for o in found])


@router.post("/{reminder_id}/occurrences/{occurrence_id}/ack", response_model=OccurrenceOut, responses=ERRORS)
async def ack(
    reminder_id: uuid.UUID, occurrence_id: uuid.UUID, user: UserDep, providers: ProvidersDep
) -> OccurrenceOut:
    """The dose was taken: stops the escalation. Repeating it returns the first acknowledgement."""
    now = providers.clock.now()
    async with providers.uow() as uow:
        acked = await ack_occurrence(
            user.id, reminder_id, occurrence_id, now, reminders=_repo(providers, uow)
        )
    return OccurrenceOut.of(acked)


@router.get("/{reminder_id}/adherence", response_model=AdherenceOut, responses=ERRORS)
async def read_adherence(
    reminder_id: uuid.UUID,
    user: UserDep,
    providers: ProvidersDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> AdherenceOut:
    """Taken, late and missed doses due in the last `days` days."""
    now = providers.clock.now()
    async with providers.uow() as uow:
        found = await adherence(user.id, reminder_id, now, days, reminders=_repo(providers, uow))
    return AdherenceOut.of(found)
