"""A local stand-in for the ElevenLabs API, driven by the real SDK in the tests: it answers
POST /v1/text-to-speech/{voice_id} with scripted statuses, and records every request."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# One MPEG-1 Layer III frame header (128 kbit/s, 44.1 kHz) and silence: enough to be "audio/mpeg".
FAKE_MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(413)


@dataclass
class FakeElevenLabs:
    answers: deque[int] = field(default_factory=deque)
    """Statuses to answer, in order; 200 once they run out (unless `failing`)."""
    failing: bool = False
    """Answer 500 to everything."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def next_status(self) -> int:
        if self.failing:
            return 500
        return self.answers.popleft() if self.answers else 200


def _handler(fake: FakeElevenLabs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            fake.requests.append(
                {"path": self.path, "key": self.headers.get("xi-api-key"), "json": json.loads(body or b"{}")}
            )
            status = fake.next_status()
            if not self.path.startswith("/v1/text-to-speech/"):
                status = 404
            payload = FAKE_MP3 if status == 200 else json.dumps({"detail": {"status": "error"}}).encode()
            self.send_response(status)
            self.send_header("content-type", "audio/mpeg" if status == 200 else "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def fake_elevenlabs() -> Iterator[FakeElevenLabs]:
    fake = FakeElevenLabs()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
