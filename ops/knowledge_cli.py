"""`python -m ops.cli knowledge ingest DIR`: add a folder of documents to a knowledge base, with a
progress bar, through the same use case as POST /v1/knowledge/documents (the answer lane's worker
indexes them; unchanged files are skipped).

python -m ops.cli knowledge ingest DIR --user USER_ID [--org NAME] [--timeout 600] [--no-wait]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

from domain.errors import NotFound
from domain.knowledge import (
    EXTENSIONS,
    DocumentStatus,
    KnowledgeDocument,
    KnowledgeRepositories,
    NewDocument,
    org_tenant,
    user_tenant,
)
from domain.knowledge_services import submit_document
from domain.users import User
from providers.wiring import Providers


def add_parser(commands: Any) -> None:
    knowledge = commands.add_parser("knowledge", help="knowledge bases").add_subparsers(
        dest="knowledge", required=True
    )
    ingest = knowledge.add_parser("ingest", help="add or update every .md .txt .html .pdf file of a folder")
    ingest.add_argument("directory", type=Path)
    ingest.add_argument("--user", type=uuid.UUID, required=True, help="the owner, or an editor of --org")
    ingest.add_argument("--org", default=None, help="the organisation's knowledge base instead of the user's")
    ingest.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the indexing")
    ingest.add_argument("--no-wait", action="store_true", help="queue the documents and return")


def files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)


def title_of(path: Path, body: bytes) -> str:
    """The first Markdown top heading, else the file name in words."""
    if path.suffix.lower() in (".md", ".markdown", ".txt"):
        for line in body.decode("utf-8", "replace").splitlines()[:50]:
            if line.startswith("# "):
                return line[2:].strip()[:300]
    return path.stem.replace("_", " ").replace("-", " ").strip() or path.name


async def run(args: argparse.Namespace, providers: Providers, out: TextIO = sys.stderr) -> Any:
    if not args.directory.is_dir():
        raise NotFound(f"no such directory: {args.directory}")
    repositories: KnowledgeRepositories = providers.skill_ports[KnowledgeRepositories]  # type: ignore[assignment]
    user = User(id=args.user)
    tenant = org_tenant(args.org) if args.org else user_tenant(user.id)
    paths = files_in(args.directory)
    submitted: list[tuple[str, KnowledgeDocument, bool]] = []
    async with providers.uow() as uow:
        documents = repositories(uow)
        if not await documents.user_exists(user.id):
            raise NotFound(f"no such user: {user.id}")
        for number, path in enumerate(paths, start=1):
            body = path.read_bytes()
            source = path.relative_to(args.directory).as_posix()
            doc = NewDocument(
                tenant, source, title_of(path, body), EXTENSIONS[path.suffix.lower()], body, user.id
            )
            done = await submit_document(user, doc, uow=uow, documents=documents, queue=providers.streams)
            submitted.append((source, done.document, done.task is not None))
            _bar(out, "queued ", number, len(paths), "")
    _end(out)
    queued = sum(changed for _, _, changed in submitted)
    if args.no_wait or not queued:
        return _summary(submitted, {d.id: d for _, d, _ in submitted})
    final = await _wait(
        providers, repositories, [d for _, d, changed in submitted if changed], args.timeout, out
    )
    return _summary(submitted, final)


async def _wait(
    providers: Providers,
    repositories: KnowledgeRepositories,
    docs: list[KnowledgeDocument],
    timeout: float,
    out: TextIO,
) -> dict[uuid.UUID, KnowledgeDocument]:
    """Poll the documents until each is indexed or failed, drawing the bar, within `timeout` s."""
    tenants = sorted({d.tenant for d in docs})
    latest = {d.id: d for d in docs}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with providers.uow() as uow:
            for doc in docs:
                found = await repositories(uow).get(tenants, doc.id)
                if found is not None:
                    latest[doc.id] = found
        finished = [d for d in latest.values() if d.status is not DocumentStatus.INDEXING]
        chunks = sum(d.chunks for d in finished)
        _bar(out, "indexed", len(finished), len(docs), f"{chunks} chunks")
        if len(finished) == len(docs):
            break
        await asyncio.sleep(0.5)
    _end(out)
    return latest


def _bar(out: TextIO, label: str, done: int, total: int, extra: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    out.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {extra}  ")
    out.flush()


def _end(out: TextIO) -> None:
    out.write("\n")
    out.flush()


def _summary(
    submitted: list[tuple[str, KnowledgeDocument, bool]], final: dict[uuid.UUID, KnowledgeDocument]
) -> dict[str, Any]:
    rows = []
    for source, doc, changed in submitted:
        now = final.get(doc.id, doc)
        rows.append(
            {
                "source": source,
                "id": str(doc.id),
                "status": now.status.value,
                "chunks": now.chunks,
                "changed": changed,
                "error": now.error,
            }
        )
    statuses = [r["status"] for r in rows]
    return {
        "documents": rows,
        "ready": statuses.count("ready"),
        "indexing": statuses.count("indexing"),
        "failed": statuses.count("failed"),
        "unchanged": sum(not changed for _, _, changed in submitted),
    }
