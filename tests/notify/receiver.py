"""A webhook receiver on 127.0.0.1 for tests and benchmarks: it verifies every request with the
`standardwebhooks` package, as a family member's endpoint would, and answers as scripted."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    """What the receiver answered."""
    verified_by: list[int] = field(default_factory=list)
    """Indexes (in `Receiver.secrets`) of the secrets whose signature matched."""

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Answers 401 to a request no secret verifies, else the next scripted status, else 200."""

    def __init__(self, answers: Iterable[int] = (), delay: float = 0.0, verify: bool = True) -> None:
        self.secrets: list[str] = []
        self.answers: deque[int] = deque(answers)
        self.delay = delay
        self.verify = verify
        self.requests: list[Received] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/errand"

    def delivered(self) -> list[Received]:
        """Requests that verified and were answered with a 2xx: what the family app acted on."""
        return [r for r in self.requests if r.verified_by and 200 <= r.status < 300]

    async def wait_for(self, count: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._server.wait_closed()

    def _answer(self, headers: dict[str, str], body: bytes) -> Received:
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(index)
        refused = self.verify and not verified
        status = 401 if refused else (self.answers.popleft() if self.answers else 200)
        return Received(headers, body, status, verified)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = self._answer(headers, body)
                if self.delay:
                    await asyncio.sleep(self.delay)
                self.requests.append(received)
                self._arrived.set()
                writer.write(f"HTTP/1.1 {received.status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
