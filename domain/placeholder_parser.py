"""A minimal, honest parser until the intent engine lands: it never labels an action.

Everything is small talk (`none`) or a question (`ask_question`); both go to the answer lane.
"""

from __future__ import annotations

import re
from datetime import datetime

from domain.intents import Intent, ParsedIntent

_QUESTION = re.compile(
    r"\?\s*$|^(what|who|whom|whose|when|where|why|how|which|is|are|can|could|do|does|did|will|should)\b",
    re.IGNORECASE,
)


class PlaceholderParser:
    name = "placeholder"

    async def parse(self, text: str, *, now: datetime, timezone: str) -> ParsedIntent:
        intent = Intent.ASK_QUESTION if _QUESTION.search(text.strip()) else Intent.NONE
        slots = {"question": text.strip()} if intent is Intent.ASK_QUESTION else {}
        return ParsedIntent(intent=intent, confidence=0.5, parser=self.name, slots=slots)
