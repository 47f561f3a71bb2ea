"""Booking use cases for the API: the person's own bookings, and cancelling a booking task so that
its held slot is free at once. Each receives its ports as keyword arguments."""

from __future__ import annotations

import uuid

from domain.booking_flow import release_task_hold
from domain.bookings import BookingStore
from domain.ports import UnitOfWork
from domain.services import cancel_task
from domain.tasks import Lane, Task
from domain.users import User


async def cancel_task_and_release_hold(
    user: User, task_id: uuid.UUID, *, uow: UnitOfWork, store: BookingStore
) -> Task:
    """Cancel a task that has not started (Conflict once it runs or has finished); a booking task's
    held slot is given back now rather than when the hold lapses, so someone else can book it."""
    task = await cancel_task(user, task_id, uow=uow)
    if task.lane is Lane.BOOKING:
        await release_task_hold(task.id, store=store)
    return task
