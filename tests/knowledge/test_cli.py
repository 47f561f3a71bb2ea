"""`python -m ops.cli knowledge ingest DIR`: a folder becomes a knowledge base, with a progress bar."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

from providers.wiring import Providers
from tests.conftest import running_worker
from tests.e2e.procs import ROOT, process_env
from tests.knowledge.conftest import CORPUS, ask


async def ingest(providers: Providers, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ops.cli", "knowledge", "ingest", *args,
        cwd=ROOT, env=process_env(providers.settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, json.loads(out) if proc.returncode == 0 else {}, err.decode()


async def test_a_folder_is_ingested_and_answered_from_and_unchanged_files_are_skipped(
    client: httpx.AsyncClient, providers: Providers, auth: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    (folder / "guides").mkdir(parents=True)
    for name in ("soup.md", "clinic_faq.html", "sleep.md"):
        shutil.copy(CORPUS / name, folder / "guides" / name)
    (folder / "notes.bin").write_bytes(b"ignored: not a document type")
    user = (await client.get("/v1/me", headers=auth)).json()["id"]
    async with running_worker(providers):
        code, first, progress = await ingest(providers, str(folder), "--user", user)
        (folder / "guides" / "soup.md").write_text("# Soup\n\n## Storing\nKeep soup for two days at most.\n")
        _, second, _ = await ingest(providers, str(folder), "--user", user)
        task = await ask(client, providers, auth, "How long can I keep leftover soup in the fridge?")
    assert code == 0, progress
    files = 3
    assert first["ready"] == files and first["failed"] == 0
    assert {d["source"] for d in first["documents"]} >= {"guides/soup.md", "guides/clinic_faq.html"}
    assert f"indexed [{'#' * 30}] {files}/{files}" in progress
    assert second["unchanged"] == files - 1 and second["ready"] == files
    assert "two days" in task["reply"]


async def test_an_unknown_user_or_folder_is_an_error(providers: Providers, tmp_path: Path) -> None:
    code, _, err = await ingest(providers, str(tmp_path), "--user", "00000000-0000-0000-0000-000000000000")
    assert code == 1 and "no such user" in err
    code, _, err = await ingest(
        providers, str(tmp_path / "missing"), "--user", "00000000-0000-0000-0000-000000000000"
    )
    assert code == 1 and "no such directory" in err
