"""A chain of intent parsers: the first that answers wins; the task records which one it was."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Protocol, runtime_checkable

from domain.errors import PermanentError, TransientError
from domain.intents import ParsedIntent
from domain.ports import IntentParser

log = logging.getLogger(__name__)


@runtime_checkable
class WarmsUp(Protocol):
    """A parser with something slow to load (a model) that a server loads before its first request."""

    def warm_up(self) -> None: ...


class FallbackParser:
    def __init__(self, primary: IntentParser, fallback: IntentParser) -> None:
        self._primary = primary
        self._fallback = fallback
        self.name = f"{primary.name}>{fallback.name}"

    def warm_up(self) -> None:
        for parser in (self._primary, self._fallback):
            if isinstance(parser, WarmsUp):
                parser.warm_up()

    async def parse(self, text: str, *, now: datetime, timezone: str) -> ParsedIntent:
        try:
            return await self._primary.parse(text, now=now, timezone=timezone)
        except (TransientError, PermanentError) as exc:
            log.warning(
                "primary parser failed; using the fallback",
                extra={"parser": self._primary.name, "error": exc.detail},
            )
            parsed = await self._fallback.parse(text, now=now, timezone=timezone)
            reason = "unavailable" if isinstance(exc, TransientError) else "invalid answer"
            return dataclasses.replace(parsed, parser=f"{parsed.parser} ({self._primary.name} {reason})")
