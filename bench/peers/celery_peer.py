"""Celery (Redis broker, results ignored): the no-op workload. Runs in .bench-venvs/celery.

python celery_peer.py enqueue N                        N no-op tasks, before the worker starts
python celery_peer.py offer RATE S WARM                warm-up, then RATE tasks/s for S seconds
python celery_peer.py worker pool=solo,prefetch=64     one worker process (`celery worker`)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from _probe import QUEUE, Recorder, offer, parse_config, redis_url, report, usage
from celery import Celery

app = Celery("errand_peer", broker=redis_url())
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    worker_disable_rate_limits=True,
    worker_hijack_root_logger=False,
)
RECORDER = Recorder()


@app.task(name="errand_peer.noop", ignore_result=True)
def noop(sent_at: float) -> None:
    RECORDER.ran(sent_at, time.time())


def enqueue(count: int) -> None:
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for _ in range(count):
            noop.apply_async((time.time(),), producer=producer)
    report({"sent": count, "seconds": time.perf_counter() - started})


def offer_load(rate: float, seconds: float, warm: int) -> None:
    with app.producer_or_acquire() as producer:
        report(offer(lambda at: noop.apply_async((at,), producer=producer), rate, seconds, warm))


def worker(config: str) -> None:
    """Replace this process with `celery worker`: one process (solo or a thread pool), no
    heartbeats, gossip or mingle, WARNING logs (no line per task)."""
    options = parse_config(config)
    here = str(Path(__file__).resolve().parent)
    os.environ["PYTHONPATH"] = here + os.pathsep + os.environ.get("PYTHONPATH", "")
    argv = [sys.executable, "-m", "celery", "-A", "celery_peer", "worker", "-Q", QUEUE, "-l", "WARNING"]
    argv += ["-P", options.get("pool", "solo"), "-c", options.get("concurrency", "1")]
    argv += ["--prefetch-multiplier", options.get("prefetch", "4"), "-n", f"peer-{os.getpid()}@%h"]
    argv += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    os.chdir(here)
    os.execv(sys.executable, argv)


def main() -> None:
    match sys.argv[1:]:
        case ["enqueue", count]:
            enqueue(int(count))
        case ["offer", rate, seconds, warm]:
            offer_load(float(rate), float(seconds), int(warm))
        case ["worker", config]:
            worker(config)
        case _:
            usage()


if __name__ == "__main__":
    main()
