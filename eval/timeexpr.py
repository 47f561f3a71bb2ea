"""How well the local time-expression resolver reads hand-written messages (eval/time_expressions.jsonl).

Each line holds a message, the moment it was sent, the person's zone and what a careful human expects:
``start`` (an exact instant, or null for "no time here"), optionally ``end``, ``recurrence`` (compared as
a set of RRULE parts, so their order does not matter) and ``date_only``.

Run: ``python -m eval.timeexpr [path]``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.timeexpr import TimeExpr, resolve

DEFAULT_PATH = Path(__file__).with_name("time_expressions.jsonl")


@dataclass(slots=True)
class TimeEval:
    total: int = 0
    correct: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_cases(path: Path | None = None) -> list[dict[str, Any]]:
    """The cases, one JSON object per non-blank line."""
    lines = (path or DEFAULT_PATH).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def rrule_parts(rule: str | None) -> frozenset[tuple[str, frozenset[str]]] | None:
    """An RRULE body as {(name, {values})}: equal rules compare equal whatever the order of parts."""
    if rule is None:
        return None
    parts = (part.split("=", 1) for part in rule.upper().split(";") if part)
    return frozenset((name, frozenset(value.split(","))) for name, value in parts)


def _same_instant(actual: datetime | None, expected: str | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return actual.astimezone(UTC) == datetime.fromisoformat(expected).astimezone(UTC)


def mismatches(case: dict[str, Any], result: TimeExpr | None) -> list[str]:
    """What differs between a case's expectation and the resolver's answer (empty when right)."""
    start = result.start if result else None
    problems: list[str] = []
    if not _same_instant(start, case["start"]):
        problems.append(f"start {start.isoformat() if start else None} != {case['start']}")
    if "end" in case:
        end = result.end if result else None
        if not _same_instant(end, case["end"]):
            problems.append(f"end {end.isoformat() if end else None} != {case['end']}")
    recurrence = result.recurrence if result else None
    if rrule_parts(recurrence) != rrule_parts(case.get("recurrence")):
        problems.append(f"recurrence {recurrence} != {case.get('recurrence')}")
    date_only = result.date_only if result else False
    if date_only != case.get("date_only", False):
        problems.append(f"date_only {date_only} != {case.get('date_only', False)}")
    return problems


def run_case(case: dict[str, Any]) -> TimeExpr | None:
    return resolve(case["text"], datetime.fromisoformat(case["now"]), case["timezone"])


def evaluate(path: Path | None = None) -> TimeEval:
    """Resolve every case and count those whose start, end, recurrence and date_only all match."""
    result = TimeEval()
    for case in load_cases(path):
        result.total += 1
        problems = mismatches(case, run_case(case))
        if problems:
            where = f"(now {case['now']}, {case['timezone']})"
            result.failures.append(f"{case['text']!r} {where}: " + "; ".join(problems))
        else:
            result.correct += 1
    return result


def main(argv: list[str]) -> int:
    outcome = evaluate(Path(argv[1]) if len(argv) > 1 else None)
    for failure in outcome.failures:
        print("FAIL", failure)
    print(f"time expressions: {outcome.correct}/{outcome.total} correct ({outcome.accuracy:.1%})")
    return 0 if outcome.correct == outcome.total else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
