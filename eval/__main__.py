"""`make eval`: the intent classifier on held-back utterances, and the time resolver on its set."""

from __future__ import annotations

import sys

from eval import intents, timeexpr


def main() -> int:
    intent_report = intents.evaluate()
    print(intent_report.render())
    time_report = timeexpr.evaluate()
    print(f"\ntime expressions: {time_report.correct}/{time_report.total} correct")
    for failure in time_report.failures:
        print(f"  FAIL {failure}")
    ok = intent_report.targets_met and time_report.correct == time_report.total
    print("\nall targets met" if ok else "\nsome targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
