"""An open-loop load: requests at a fixed rate, each on its own connection, as Vibes
delivers callbacks.

wrk keeps its connections open and, when paced, holds a freshly opened connection idle
until the request is due; a gunicorn sync worker that accepted that connection waits for
it and serves nobody else meanwhile, which makes a paced wrk measure its own pauses. Here
a connection is opened only when its request is due, so the latency measured (connect,
send, answer) is what a sender at that rate sees. Arrivals are evenly spaced with ±50 %
jitter and do not wait for earlier answers (open loop); at most ``max_in_flight`` requests
are outstanding, past which an arrival counts as an error rather than being delayed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        bad = sum(count for status, count in self.statuses.items() if not 200 <= status < 300)
        return self.errors + bad


async def _one(host: str, port: int, request: bytes, result: LoadResult, timeout: float) -> None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
                await reader.read()  # the server closes: the answer is complete
            finally:
                writer.close()
        status = int(status_line.split()[1])
    except (OSError, TimeoutError, ValueError, IndexError):
        result.errors += 1
        return
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    result.statuses[status] = result.statuses.get(status, 0) + 1


async def _run(
    url: str,
    body: Callable[[int], bytes],
    rate: float,
    seconds: float,
    max_in_flight: int,
    timeout: float,
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    tasks: set[asyncio.Task] = set()
    interval = 1.0 / rate
    started = time.perf_counter()
    due = started
    n = 0
    while due - started < seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        payload = body(n)
        request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        if len(tasks) >= max_in_flight:
            result.errors += 1
        else:
            task = asyncio.create_task(_one(host, port, request, result, timeout))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        n += 1
        due += interval * (0.5 + random.random())
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
    result.seconds = time.perf_counter() - started
    return result


def open_loop(
    url: str,
    body: Callable[[int], bytes],
    *,
    rate: float,
    seconds: float,
    max_in_flight: int = 256,
    timeout: float = 10.0,
) -> LoadResult:
    """POST ``body(n)`` to ``url`` at ``rate`` requests per second for ``seconds``."""
    return asyncio.run(_run(url, body, rate, seconds, max_in_flight, timeout))
