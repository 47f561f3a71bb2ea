"""The cue features name a family of synonyms once; these pin what each family catches and that
the pairs only fire together."""

from __future__ import annotations

import pytest

from providers.intent_cues import cues


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("please delete the reservation for 3 people at outback", "x CANCEL+BOOKING"),
        ("I no longer need a table for four", "x CANCEL+BOOKING"),
        ("we can\u2019t make our appointment tomorrow", "x CANCEL+BOOKING"),
        ("is there a reminder set to clean the gutters", "x ASK+REMIND"),
        ("did i set up a reminder to clean the bathroom", "x CHECK+REMIND"),
        ("can you make sure robert has a reservation at ruth's", "x CHECK+BOOKING"),
        ("please set up a reminder for my pills", "x SET+REMIND"),
        ("text my granddaughter that I'm home", "x SEND+FAMILY"),
        ("email the message hi come down for dinner tonight to bro", "x SEND+FAMILY"),
        ("don't let me forget my eye drops tonight", "x SET+REMIND"),
        ("i want to text natalie", "x REQUEST+SEND"),
        ("tell the hairdresser i can't make it", "x CANCEL+VENUE"),
        ("i'm not going to need the dinner reservation", "x CANCEL+BOOKING"),
    ],
)
def test_a_request_carries_its_pair(text: str, pair: str) -> None:
    assert pair in cues(text)


def test_tell_me_to_is_a_reminder_not_a_question() -> None:
    """A reminder is asked for with "tell me to take the bins out", not with "tell me my reminders"."""
    assert "x ASK+REMIND" not in cues("tell me to take out the trash in an hour")
    assert "x REMIND" in cues("tell me to take out the trash in an hour")
    assert "x ASK+REMIND" in cues("tell me my reminders")


def test_a_single_cue_is_not_a_pair() -> None:
    found = cues("book a table for four")
    assert "x BOOKING" in found
    assert not [cue for cue in found if "+" in cue]


def test_cue_names_cannot_collide_with_word_ngrams() -> None:
    """Word tokens are lower case; cue names are upper case."""
    for cue in cues("Cancel my booking? Remind me, text my son, did I set it?"):
        assert cue.startswith("x ") and cue[2:].upper() == cue[2:]


def test_small_talk_has_no_action_cues() -> None:
    assert cues("lovely weather we are having") == []
    assert cues("what a lovely day it is") == ["x ASK"]  # a question, but about nothing we do
