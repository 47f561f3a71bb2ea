"""A deterministic held-back split of labelled utterances, by a hash of each row's `id`.

Why a hash and not a shuffle: a row's side never depends on the order of the file, on a random
seed or on which rows were added later, so the test rows stay untouched by training and tuning
across every re-run and every version of the data.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

Part = Literal["train", "validation", "test"]

TRAIN_PERCENT = 70
VALIDATION_PERCENT = 10
"""The rest (20 %) is the test split: never trained on, never tuned on."""

REPO = Path(__file__).resolve().parent.parent
EXAMPLES_PATH = REPO / "nlu" / "examples.jsonl"
"""Examples we wrote ourselves (Apache-2.0), split the same way as the shared data."""

CLINC_DIR = REPO / "nlu" / "clinc150"
"""CLINC150's own validation and test rows for our intents (CC BY 3.0; see its README): rows the
shared data does not hold. Its validation rows are trained on, its test rows only scored."""


def part_of(row_id: str) -> Part:
    """The split a row belongs to: a function of its id alone."""
    bucket = int.from_bytes(hashlib.sha256(row_id.encode("utf-8")).digest()[:8], "big") % 100
    if bucket < TRAIN_PERCENT:
        return "train"
    if bucket < TRAIN_PERCENT + VALIDATION_PERCENT:
        return "validation"
    return "test"


def data_path() -> Path:
    """Where the shared labelled data lives: $ERRAND_NLU_DATA, else beside the repo (as in CI)."""
    configured = os.environ.get("ERRAND_NLU_DATA")
    if configured:
        return Path(configured)
    return REPO.parent / "shared" / "data" / "nlu" / "dev.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One JSON object per non-empty line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def select(rows: Iterable[dict[str, Any]], part: Part) -> Iterator[dict[str, Any]]:
    """The rows of one split."""
    return (row for row in rows if part_of(row["id"]) == part)


def load_dev(part: Part | None = None) -> list[dict[str, Any]]:
    """The shared data (CC BY-SA 4.0), optionally one split of it."""
    rows = read_jsonl(data_path())
    return rows if part is None else list(select(rows, part))


def load_examples(part: Part | None = None) -> list[dict[str, Any]]:
    """Our own examples, optionally one split of them."""
    rows = read_jsonl(EXAMPLES_PATH)
    return rows if part is None else list(select(rows, part))


def load_clinc(part: Literal["validation", "test"]) -> list[dict[str, Any]]:
    """CLINC150's validation rows (extra training rows) or its test rows (an external check)."""
    return read_jsonl(CLINC_DIR / f"{part}.jsonl")
