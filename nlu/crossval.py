"""`python -m nlu.crossval`: out-of-fold recall per action intent on train + validation.

Why beside `eval.intents`: the test split has only 17-29 rows of each small intent, so one row
moves its recall by 3-6 points; five folds over train + validation score ~100 rows of each, with
every row predicted by a model that never saw it. The test split is still never read. Feature and
training changes are judged here, and the test split confirms them once.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from domain.intent_policy import decide
from eval.intents import BROAD, NARROW
from nlu.split import load_dev, load_examples
from nlu.train import VARIANTS, train
from providers.intent_classifier import IntentClassifier

FOLDS = 5


def fold_of(row_id: str) -> int:
    """A row's fold: a hash of its id (salted, so folds are independent of the split's buckets)."""
    return int.from_bytes(hashlib.sha256(f"cv:{row_id}".encode()).digest()[:4], "big") % FOLDS


def out_of_fold(c: float, variant: str) -> list[tuple[dict[str, Any], str, float]]:
    """(shared row, top label, its probability) for every shared train + validation row."""
    shared = load_dev("train") + load_dev("validation")
    ours = load_examples("train") + load_examples("validation")
    config = replace(VARIANTS[variant], c=c)
    predicted = []
    for k in range(FOLDS):
        model = train(
            config,
            [r for r in shared if fold_of(r["id"]) != k],
            [r for r in ours if fold_of(r["id"]) != k],
        ).classifier(0.5)
        for row in (r for r in shared if fold_of(r["id"]) == k):
            label, probability, _ = model.predict(row["text"])
            predicted.append((row, label, probability))
        print(f"  fold {k + 1}/{FOLDS} done", flush=True)
    return predicted


def report(predicted: Sequence[tuple[dict[str, Any], str, float]], threshold: float) -> list[str]:
    """Recall of each action intent and the false-action rates, after the policy."""
    chosen = [(row["intent"], decide(label, p, threshold)[0].value) for row, label, p in predicted]
    lines = [f"out-of-fold on train + validation ({FOLDS} folds, shared rows), threshold {threshold:.2f}"]
    for intent in sorted(BROAD):
        gold = [c for g, c in chosen if g == intent]
        hits = sum(c == intent for c in gold)
        lines.append(f"  recall {intent:<18}{hits / len(gold):.3f}  ({hits}/{len(gold)})")
    nones = [c for g, c in chosen if g == "none"]
    narrow = sum(c in NARROW for c in nones) / len(nones)
    broad = sum(c in BROAD for c in nones) / len(nones)
    lines.append(f"  false-action rate {narrow:.2%} (narrow), {broad:.2%} (broad) of {len(nones)} none")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    shipped = IntentClassifier.load()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="logreg-w075")
    parser.add_argument("--c", type=float, default=30.0)
    parser.add_argument("--threshold", type=float, default=shipped.threshold)
    args = parser.parse_args(argv)
    print("\n".join(report(out_of_fold(args.c, args.variant), args.threshold)))


if __name__ == "__main__":
    main()
