"""CLINC150's rows beside the shared data: the validation rows are trained on and the test rows
only scored, so no scored text may be one the model learnt, and every label must be one it knows."""

from __future__ import annotations

from collections import Counter

from domain.intent_policy import OTHER_ACTION
from domain.intents import Intent
from eval.intents import unseen
from nlu.split import load_clinc, load_examples

LABELS = {intent.value for intent in Intent} | {OTHER_ACTION}


def test_clinc_rows_have_known_labels_and_unique_ids() -> None:
    for part, per_intent in (("validation", 20), ("test", 30)):
        rows = load_clinc(part)
        assert {row["intent"] for row in rows} <= LABELS
        assert len({row["id"] for row in rows}) == len(rows)
        sources = Counter(row["source"].rpartition(":")[2] for row in rows)
        assert set(sources.values()) == {per_intent}, sources


def test_the_external_check_drops_texts_a_training_source_holds() -> None:
    shared = [{"text": "Is my table at Luigi's booked?"}]
    rows = [
        {"text": "is my table at luigi's booked"},  # in the shared rows, up to case and punctuation
        {"text": "List my reminders!"},  # one of our own examples
        {"text": load_clinc("validation")[0]["text"]},  # a CLINC validation row (trained on)
        {"text": "read back the reminders for my granddaughter's visit"},
    ]
    kept = unseen(rows, shared_everything=shared, ours=load_examples())
    assert [row["text"] for row in kept] == ["read back the reminders for my granddaughter's visit"]
    scored = unseen(load_clinc("test"), shared_everything=[], ours=load_examples())
    assert 440 <= len(scored) < len(load_clinc("test"))  # three short commands are also ours
