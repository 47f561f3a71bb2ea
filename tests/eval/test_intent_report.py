"""The `make eval` report shows how uncertain a recall on a few rows is."""

from __future__ import annotations

import math

import pytest

from domain.intents import Intent
from eval.intents import Scores, format_scores, reminder_what, venue_score, wilson_interval


def test_wilson_interval_of_a_small_split() -> None:
    low, high = wilson_interval(19, 21)
    assert (round(low, 2), round(high, 2)) == (0.71, 0.97)
    assert wilson_interval(21, 21)[1] == pytest.approx(1.0)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_report_prints_the_interval_and_survives_an_intent_without_rows() -> None:
    names = [intent.value for intent in Intent]
    recall = {name: 1.0 for name in names} | {"cancel_booking": 19 / 21, "ask_question": math.nan}
    support = {name: 20 for name in names} | {"cancel_booking": 21, "ask_question": 0}
    scores = Scores(
        rows=200,
        precision=dict.fromkeys(names, 1.0),
        recall=recall,
        support=support,
        false_action_rate=0.0,
        false_action_rate_broad=0.0,
        none_count=20,
        wrong_action_rate=0.0,
        other_action_routes={},
        unsure_rate=0.0,
    )
    lines = format_scores("test rows", scores)
    cancel = next(line for line in lines if "cancel_booking" in line)
    assert cancel.split()[-1] == "0.71-0.97"
    assert next(line for line in lines if "ask_question" in line).endswith("nan-nan")


def test_reminder_coverage_counts_only_reminders_and_only_those_that_name_a_thing() -> None:
    rows = [
        {"text": "don't let me forget to ring the surgery at 9", "intent": "set_reminder"},
        {"text": "remind me at 8", "intent": "set_reminder"},
        {"text": "remind me to call bob", "intent": "none"},
    ]
    assert reminder_what(rows) == (1, 2)


def test_venue_score_counts_a_right_read_a_wrong_read_and_a_miss() -> None:
    rows = [
        {
            "text": "book a table at The Fat Duck for 2",
            "intent": "book_restaurant",
            "slots": {"restaurant_name": "The Fat Duck"},
        },
        {"text": "a haircut with Dr. Who", "intent": "book_appointment", "slots": {}},
        {
            "text": "book the table, the place is Sala",
            "intent": "book_restaurant",
            "slots": {"venue": "Sala"},
        },
        {"text": "book a table at Luigi's", "intent": "book_restaurant", "slots": None},
        {"text": "cancel my table at Luigi's", "intent": "cancel_booking", "slots": {"venue": "Luigi's"}},
    ]
    score = venue_score(rows)
    assert (score.right, score.read, score.gold) == (1, 2, 2)
    assert (score.precision, score.recall) == (0.5, 0.5)
