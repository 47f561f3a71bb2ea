"""A small HTTP/1.1 load generator on raw asyncio streams, cheap enough to leave the server the CPU.

Closed loop (`concurrency` keep-alive connections, each sending its next request on the previous
answer) for throughput; open loop (a fixed rate, whatever the answers) for latency at a load.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def build_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def closed_loop(port: int, request: bytes, concurrency: int, seconds: float) -> LoadResult:
    result = LoadResult()
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                result.sent += 1
                status = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                if 200 <= status < 300:
                    result.ok += 1
                else:
                    result.errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def open_loop(port: int, request: bytes, rate: float, seconds: float, pool: int = 64) -> LoadResult:
    """Send at `rate` per second on a pool of connections; latency counts from the scheduled time."""
    result = LoadResult()
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(pool)]
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for conn in conns:
        free.put_nowait(conn)

    async def one(scheduled: float) -> None:
        reader, writer = await free.get()
        writer.write(request)
        result.sent += 1
        try:
            status = await _read_response(reader)
        finally:
            free.put_nowait((reader, writer))
        result.latencies.append(time.perf_counter() - scheduled)
        if 200 <= status < 300:
            result.ok += 1
        else:
            result.errors += 1

    start = time.perf_counter()
    jobs = []
    total = int(rate * seconds)
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        jobs.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*jobs)
    result.seconds = time.perf_counter() - start
    for _, writer in conns:
        writer.close()
    return result
