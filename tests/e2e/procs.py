"""Real worker and scheduler processes for crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from providers.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def process_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "ERRAND_DATABASE_URL": settings.database_url,
            "ERRAND_REDIS_URL": settings.redis_url,
            "ERRAND_REDIS_PREFIX": settings.redis_prefix,
            "ERRAND_EXTRA_SKILLS": '["tests.skills"]',
            "ERRAND_VISIBILITY_TIMEOUT_SECONDS": str(settings.visibility_timeout_seconds),
            "ERRAND_RECLAIM_INTERVAL_SECONDS": str(settings.reclaim_interval_seconds),
            "ERRAND_LEASE_MARGIN_SECONDS": str(settings.lease_margin_seconds),
            "ERRAND_LEASE_GRACE_SECONDS": str(settings.lease_grace_seconds),
            "ERRAND_RELAY_INTERVAL_SECONDS": str(settings.relay_interval_seconds),
            "ERRAND_SHUTDOWN_GRACE_SECONDS": str(settings.shutdown_grace_seconds),
            "ERRAND_WORKER_BLOCK_MS": str(settings.worker_block_ms),
            "ERRAND_ADMIN_TOKEN": "test-admin-token",
            "ERRAND_LOG_JSON": "false",
            "ERRAND_DATA_DIR": str(settings.data_dir),
            "ERRAND_KNOWLEDGE_WARM_UP": "false",  # the session's database may hold documents
        }
    )
    return env


@contextmanager
def process(
    settings: Settings, *args: str, log: Path, extra: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A `python -m ...` child; killed on exit if still running."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=process_env(settings) | (extra or {}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
