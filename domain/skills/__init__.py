"""Skills: what a worker does for each kind of task. A skill declares its lane and retry policy."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

from domain.intents import Intent
from domain.ports import Clock, UnitOfWorkFactory
from domain.tasks import Lane, Outcome, RetryPolicy, Task

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SkillContext:
    """The ports a handler may use."""

    worker: str
    """The consumer name of the worker running the task, for logs."""
    uow: UnitOfWorkFactory
    """Database effects go through here, keyed by the task id so that a re-run cannot repeat them."""
    clock: Clock | None = None
    ports: Mapping[type, object] = field(default_factory=dict)
    """Providers by the Protocol they implement (webhook sender, calendar, …), from the wiring."""

    def port(self, kind: type[T]) -> T:
        """The provider wired for a Protocol. LookupError says which one the wiring lacks."""
        try:
            return cast(T, self.ports[kind])
        except KeyError:
            raise LookupError(f"no provider wired for {kind.__name__}") from None


Handler = Callable[[Task, SkillContext], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    lane: Lane
    handler: Handler
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_seconds: float = 30.0
    """A handler still running after this is cancelled and counts as a transient failure."""


class SkillRegistry:
    """The `{kind: skill}` table the worker dispatches through, and intents' routing to skills."""

    def __init__(self, skills: Iterable[Skill] = (), routes: dict[str, str] | None = None) -> None:
        self._skills: dict[str, Skill] = {}
        self._routes: dict[str, str] = dict(routes or {})
        for skill in skills:
            self.add(skill)

    def add(self, skill: Skill) -> None:
        self._skills[skill.name] = skill

    def route(self, intent: str, skill_name: str) -> None:
        self._routes[intent] = skill_name

    def get(self, name: str) -> Skill | None:
        return self._skills.get(name)

    def for_intent(self, intent: str) -> Skill:
        """The skill that serves an intent; intents with no skill yet go to `answer`, which says so."""
        return self._skills[self._routes.get(intent, "answer")]

    def lanes(self) -> set[Lane]:
        return {skill.lane for skill in self._skills.values()}

    def lease_seconds(self, name: str, margin: float) -> float:
        """How long a claim holds a task: the skill's timeout plus a margin for recording it."""
        skill = self._skills.get(name)
        return (skill.timeout_seconds if skill else 30.0) + margin


SKILL_MODULES: tuple[str, ...] = (
    "domain.skills.answer",
    "domain.skills.noop",
    "domain.skills.notify",
    "domain.skills.bookings",
    "domain.skills.reminders",
    "domain.skills.knowledge",
    "domain.skills.speech",
)
"""Modules of built-in skills; each has `SKILLS: list[Skill]` and `ROUTES: dict[str, str]`
(intent -> skill name)."""


def default_registry() -> SkillRegistry:
    registry = SkillRegistry(routes={Intent.NONE: "answer", Intent.ASK_QUESTION: "answer"})
    for name in SKILL_MODULES:
        module = importlib.import_module(name)
        for skill in module.SKILLS:
            registry.add(skill)
        for intent, skill_name in module.ROUTES.items():
            registry.route(intent, skill_name)
    return registry
