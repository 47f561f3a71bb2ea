"""The receiver in docs/webhooks.md, run as written, against the real sender: it verifies,
deduplicates on webhook-id and refuses a wrong signature. The docs cannot drift from the code."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from domain.notify_ports import WebhookRequest
from domain.webhooks import new_secret
from providers.embedded import free_port
from providers.webhooks import AddressPolicy, HttpWebhookSender

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_receiver() -> str:
    return re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)[0]


async def _send_until_up(sender: HttpWebhookSender, request: WebhookRequest) -> int | None:
    for _ in range(100):
        report = await sender.send(request)
        if report.status_code is not None:
            return report.status_code
        await asyncio.sleep(0.05)
    return None


async def test_the_documented_receiver_verifies_and_deduplicates(tmp_path: Path) -> None:
    code = documented_receiver()
    assert len([line for line in code.splitlines() if line.strip()]) <= 20
    script = tmp_path / "receiver.py"
    script.write_text(code)
    secret, port = new_secret(), free_port()
    env = dict(os.environ, ERRAND_WEBHOOK_SECRET=secret, PORT=str(port), PYTHONUNBUFFERED="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    sender = HttpWebhookSender(AddressPolicy(allow_private=True), timeout_seconds=2)
    body = '{"type":"family.message","timestamp":"2026-11-23T17:02:11+00:00","data":{"text":"I\'ll be late"}}'
    url = f"http://127.0.0.1:{port}/"
    try:
        first = await _send_until_up(sender, WebhookRequest(url, "msg_1", body, (secret,)))
        again = await sender.send(WebhookRequest(url, "msg_1", body, (new_secret(), secret)))
        forged = await sender.send(WebhookRequest(url, "msg_2", body, (new_secret(),)))
    finally:
        await sender.aclose()
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert (first, again.status_code, forged.status_code) == (204, 204, 401)
    assert out.decode().splitlines() == ["family.message I'll be late"]
