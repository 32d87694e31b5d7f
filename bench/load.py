"""A small asyncio HTTP/1.1 load generator: N keep-alive clients, a fixed request count.

Each client owns one connection and sends its next request as soon as the previous answer
arrived, so `concurrency` is the number of requests in flight. Loopback only.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

LOOPBACK = "127.0.0.1"
# Requests still unanswered this long after they were sent count as errors (status 0).
REQUEST_TIMEOUT_S = 30.0


@dataclass
class LevelResult:
    """Latencies (milliseconds) and statuses of one load level against one server."""

    concurrency: int
    requests: int
    elapsed_s: float
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int]

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != 200)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies_ms")
        data.update(
            p50_ms=round(self.percentile(50), 2),
            p95_ms=round(self.percentile(95), 2),
            p99_ms=round(self.percentile(99), 2),
            mean_ms=round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
            max_ms=round(max(self.latencies_ms), 2) if self.latencies_ms else None,
            rps=round(self.rps, 1),
            errors=self.errors,
            server_errors=self.server_errors,
        )
        data["statuses"] = {str(k): v for k, v in sorted(self.statuses.items())}
        return data


def http_post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The raw bytes of one keep-alive POST request."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {LOOPBACK}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, server wants the connection closed); the body is read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before an answer")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    close = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def _client(
    port: int,
    requests: Iterator[bytes],
    latencies: list[float],
    statuses: dict[int, int],
    deadline: float,
) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    for request in requests:
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.wait_for(
                    asyncio.open_connection(LOOPBACK, port), REQUEST_TIMEOUT_S
                )
            reader, writer = connection
            writer.write(request)
            await writer.drain()
            status, close = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT_S)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status, close = 0, True
        latencies.append((time.perf_counter() - start) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if close and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def _run(
    ports: Sequence[int],
    make_request: Callable[[], bytes],
    count: int,
    concurrency: int,
    limit_s: float,
) -> LevelResult:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    # One shared iterator: asyncio runs one client at a time, so no two take the same index.
    requests = (make_request() for _ in range(count))
    deadline = time.monotonic() + limit_s
    start = time.perf_counter()
    await asyncio.gather(
        *(
            _client(ports[n % len(ports)], requests, latencies, statuses, deadline)
            for n in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - start
    return LevelResult(concurrency, len(latencies), elapsed, latencies, statuses)


def run_level(
    port: int | Sequence[int],
    make_request: Callable[[], bytes],
    *,
    count: int,
    concurrency: int,
    limit_s: float = 90.0,
) -> LevelResult:
    """Send `count` requests from `concurrency` keep-alive clients; stop at `limit_s`.
    Given several ports, the clients are spread over them in turn (replicas behind a
    balancer that keeps each connection on one server)."""
    ports = [port] if isinstance(port, int) else list(port)
    return asyncio.run(_run(ports, make_request, count, concurrency, limit_s))
