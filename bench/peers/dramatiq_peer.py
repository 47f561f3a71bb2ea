"""Dramatiq (Redis broker): the no-op workload. Runs in .bench-venvs/dramatiq.

python dramatiq_peer.py enqueue N            N no-op tasks, before the worker starts
python dramatiq_peer.py offer RATE S WARM    warm-up, then RATE tasks/s for S seconds
python dramatiq_peer.py worker threads=8     one worker process (dramatiq's CLI, --processes 1)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dramatiq
from _probe import QUEUE, Recorder, offer, parse_config, redis_url, report, usage
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=redis_url(), namespace="errand-peer-dramatiq")
dramatiq.set_broker(broker)
RECORDER = Recorder()


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop(sent_at: float) -> None:
    RECORDER.ran(sent_at, time.time())


def enqueue(count: int) -> None:
    started = time.perf_counter()
    for _ in range(count):
        noop.send(time.time())
    report({"sent": count, "seconds": time.perf_counter() - started})


def worker(config: str) -> None:
    """Replace this process with dramatiq's CLI: a master and one worker process of N threads."""
    options = parse_config(config)
    if "prefetch" in options:
        os.environ["dramatiq_queue_prefetch"] = options["prefetch"]  # noqa: SIM112 - its spelling
    here = str(Path(__file__).resolve().parent)
    argv = [sys.executable, "-m", "dramatiq", "dramatiq_peer", "--processes", "1"]
    argv += ["--threads", options.get("threads", "8"), "--path", here, "--queues", QUEUE]
    os.execv(sys.executable, argv)


def main() -> None:
    match sys.argv[1:]:
        case ["enqueue", count]:
            enqueue(int(count))
        case ["offer", rate, seconds, warm]:
            report(offer(lambda at: noop.send(at), float(rate), float(seconds), int(warm)))
        case ["worker", config]:
            worker(config)
        case _:
            usage()


if __name__ == "__main__":
    main()
