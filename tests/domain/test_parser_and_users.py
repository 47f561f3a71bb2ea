"""The placeholder parser never labels an action; time zones are checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidInput
from domain.intents import ACTIONS, Intent
from domain.placeholder_parser import PlaceholderParser
from domain.users import hash_token, new_token, valid_timezone

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello there", Intent.NONE),
        ("What time does the clinic open?", Intent.ASK_QUESTION),
        ("book a table for four at Luigi's tomorrow at seven", Intent.NONE),
        ("how do I take my heart pills", Intent.ASK_QUESTION),
    ],
)
async def test_placeholder_parser_labels_no_action(text: str, intent: Intent) -> None:
    parsed = await PlaceholderParser().parse(text, now=NOW, timezone="UTC")
    assert parsed.intent is intent
    assert parsed.intent not in ACTIONS
    assert parsed.parser == "placeholder"


def test_tokens_are_random_and_hashed() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) > 40
    assert hash_token(a) == hash_token(a) != hash_token(b)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "UTC "])
def test_unknown_timezones_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        valid_timezone(name)


def test_known_timezone_passes() -> None:
    assert valid_timezone("Europe/Stockholm") == "Europe/Stockholm"
