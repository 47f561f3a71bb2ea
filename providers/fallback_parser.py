"""A chain of intent parsers: the first that answers wins; the task records which one it was."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from domain.errors import PermanentError, TransientError
from domain.intents import ParsedIntent
from domain.ports import IntentParser

log = logging.getLogger(__name__)


class FallbackParser:
    def __init__(self, primary: IntentParser, fallback: IntentParser) -> None:
        self._primary = primary
        self._fallback = fallback
        self.name = f"{primary.name}>{fallback.name}"

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
