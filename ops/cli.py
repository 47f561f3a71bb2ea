"""`python -m ops.cli`: the operator's commands, the same use cases the admin API calls.

python -m ops.cli create-user [--timezone Europe/Stockholm] [--name NAME]
python -m ops.cli dlq list [--limit 100]
python -m ops.cli dlq replay TASK_ID
python -m ops.cli venues list|seed|add (see ops/venues_cli.py)
python -m ops.cli knowledge ingest DIR --user USER_ID [--org NAME] (see ops/knowledge_cli.py)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from typing import Any

import orjson

from domain.errors import DomainError
from domain.services import create_user, list_dead_letters, replay_dead_letter
from domain.tasks import Task
from ops import knowledge_cli, venues_cli
from providers.settings import Settings
from providers.wiring import Providers, build_providers


def _task_json(task: Task) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "user_id": str(task.user_id),
        "kind": task.kind,
        "lane": task.lane.value,
        "status": task.status.value,
        "attempts": task.attempts,
        "error": task.error,
        "updated_at": task.updated_at.isoformat(),
    }


async def _run(args: argparse.Namespace, p: Providers) -> Any:
    # --- venues (the bookings slice): see ops/venues_cli.py ---
    if args.command == "venues":
        return await venues_cli.run(args, p)
    # --- end venues ---
    if args.command == "knowledge":
        return await knowledge_cli.run(args, p)
    async with p.uow() as uow:
        if args.command == "create-user":
            user, token = await create_user(timezone=args.timezone, name=args.name, uow=uow)
            return {"id": str(user.id), "token": token}
        if args.dlq == "list":
            tasks, _ = await list_dead_letters(limit=args.limit, cursor=None, uow=uow)
            return [_task_json(t) for t in tasks]
        task = await replay_dead_letter(args.task_id, uow=uow, queue=p.streams, dlq=p.streams)
        return _task_json(task)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    providers = await build_providers(settings)
    try:
        result = await _run(args, providers)
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await providers.aclose()
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops.cli", description="Errand operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("create-user", help="create a user and print its bearer token")
    user.add_argument("--timezone", default="UTC")
    user.add_argument("--name", default=None)
    dlq = commands.add_parser("dlq", help="the dead-letter queue").add_subparsers(dest="dlq", required=True)
    listing = dlq.add_parser("list", help="dead-lettered tasks, newest first")
    listing.add_argument("--limit", type=int, default=100)
    replay = dlq.add_parser("replay", help="queue a dead-lettered task again")
    replay.add_argument("task_id", type=uuid.UUID)
    venues_cli.add_parser(commands)  # venues (the bookings slice)
    knowledge_cli.add_parser(commands)  # knowledge bases
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    raise SystemExit(asyncio.run(run(args, Settings())))


if __name__ == "__main__":
    main()
