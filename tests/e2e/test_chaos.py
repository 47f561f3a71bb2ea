"""The short version of `make chaos`: real processes killed under load lose and double nothing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import Services
from tests.e2e.procs import ROOT

VERDICT = re.compile(
    r"^accepted=(\d+) terminal=(\d+) lost=(\d+) duplicate_effects=(\d+) dlq=(\d+) p99_ms=(\d+)$"
)


@pytest.mark.timeout(420)
def test_a_short_chaos_run_loses_and_doubles_nothing(services: Services) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ops.chaos", "--seconds", "15", "--rate", "4"],
        cwd=ROOT,
        env={"ERRAND_CHAOS_DATABASE_URL": services.admin_database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    match = VERDICT.match(last)
    assert match, run.stdout + run.stderr
    accepted, terminal, lost, doubled, _, _ = map(int, match.groups())
    assert run.returncode == 0, run.stdout
    assert accepted >= 20 and terminal == accepted and lost == 0 and doubled == 0, run.stdout
    assert "faults: " in run.stdout and "kill_worker" in run.stdout and "restart_redis" in run.stdout, (
        run.stdout
    )
