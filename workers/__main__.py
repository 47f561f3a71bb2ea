"""`python -m workers --lanes booking,notify --concurrency 16`: a worker process on chosen lanes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket

from prometheus_client import start_http_server

from domain.skills import SkillContext, knowledge
from domain.skills.speech import warm_up
from domain.tasks import Lane
from providers.logs import configure_logging
from providers.settings import Settings
from providers.wiring import build_providers
from workers.worker import Worker, WorkerConfig

log = logging.getLogger("workers")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument(
        "--lanes",
        default=",".join(lane.value for lane in Lane),
        help="comma-separated lanes to consume (default: all)",
    )
    parser.add_argument("--concurrency", type=int, default=None, help="tasks in flight at once")
    parser.add_argument(
        "--consumer",
        default=None,
        help="consumer name; a stable one lets a restarted worker resume its own entries",
    )
    parser.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port")
    return parser.parse_args(argv)


def lanes_from(text: str) -> list[Lane]:
    try:
        return [Lane(name.strip()) for name in text.split(",") if name.strip()]
    except ValueError as exc:
        raise SystemExit(
            f"unknown lane in {text!r}; lanes are {', '.join(lane.value for lane in Lane)}"
        ) from exc


async def serve(settings: Settings, config: WorkerConfig) -> None:
    providers = await build_providers(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker.for_providers(config, providers)
    log.info(
        "worker started", extra={"consumer": config.consumer, "lanes": [lane.value for lane in config.lanes]}
    )
    warming = None
    if Lane.SPEECH in config.lanes:
        ctx = SkillContext(config.consumer, providers.uow, providers.clock, providers.skill_ports)
        warming = asyncio.create_task(_warm_up_speech(ctx))
    answering = None
    # Knowledge answers: load the embedding model now if there are documents to answer from.
    if Lane.ANSWER in config.lanes and settings.knowledge_warm_up:
        ctx = SkillContext(config.consumer, providers.uow, providers.clock, providers.skill_ports)
        answering = asyncio.create_task(_warm_up_knowledge(ctx))
    try:
        await worker.run(stop)
    finally:
        if warming is not None:
            warming.cancel()
        if answering is not None:
            answering.cancel()
        await providers.aclose()
        log.info("worker stopped", extra={"consumer": config.consumer})


async def _warm_up_knowledge(ctx: SkillContext) -> None:
    try:
        if await knowledge.warm_up(ctx):
            log.info("knowledge answers ready")
    except Exception as exc:  # noqa: BLE001 - the first question reports the same cause
        log.warning("knowledge warm-up failed", extra={"error": repr(exc)})


async def _warm_up_speech(ctx: SkillContext) -> None:
    """Load the recognition model and cache the common phrases; a failure is logged, not fatal
    (tasks report the same cause when they run)."""
    try:
        made = await warm_up(ctx)
    except Exception as exc:  # noqa: BLE001 - a missing model or voice must not stop the worker
        log.warning("speech warm-up incomplete", extra={"error": repr(exc)})
    else:
        log.info("speech ready", extra={"phrases_synthesized": made})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    if args.metrics_port:
        start_http_server(args.metrics_port, addr=settings.host)
    config = WorkerConfig(
        lanes=lanes_from(args.lanes),
        consumer=args.consumer or f"{socket.gethostname()}-{os.getpid()}",
        concurrency=args.concurrency or settings.worker_concurrency,
        batch=settings.worker_batch,
        block_ms=settings.worker_block_ms,
        visibility_ms=int(settings.visibility_timeout_seconds * 1000),
        reclaim_interval=settings.reclaim_interval_seconds,
        shutdown_grace=settings.shutdown_grace_seconds,
        lease_margin=settings.lease_margin_seconds,
    )
    try:
        import uvloop

        uvloop.run(serve(settings, config))
    except ImportError:
        asyncio.run(serve(settings, config))


if __name__ == "__main__":
    main()
