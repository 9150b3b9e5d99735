"""The benchmarks' HTTP/1.1 client: keep-alive connections, each sending requests back to back.

Why not httpx: one ``AsyncClient`` saturates a core at a few hundred requests per second, so a
benchmark driving the services through it would measure the client. A connection here is an
``asyncio.Protocol``: the caller hands over complete, pre-encoded request bytes; the connection
parses only the status line and ``Content-Length`` of each response, and keeps the head for a
caller that reads headers (:func:`parse_headers`). Its CPU is counted in the ``http`` suite's
figures (the load generator's process), so its cost stays in sight. The ``http`` and
``propagation`` suites use it directly; the load tool (``bench.load.http``) sends through it.

Closed loop (:func:`run_load`): each connection sends its next request as soon as the previous
response is complete, so throughput is the server's capacity at that concurrency and latency is
the time one request spends queued and served under that load.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, cast

HEADER_END = b"\r\n\r\n"
CONTENT_LENGTH = b"\r\ncontent-length:"


class ProtocolError(Exception):
    """A response this client does not understand (chunked, malformed) or a dropped connection."""


@dataclass(slots=True)
class LoadResult:
    """What one load run observed; ``latencies_ms`` holds every response's, in completion order."""

    expected: int  # the status that counts as success (status 0 records a dropped connection)
    elapsed: float = 0.0  # seconds from the first request sent to the last response received
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    first_error: bytes = b""  # the body of the first unexpected response, for diagnosis

    @property
    def succeeded(self) -> int:
        return self.statuses[self.expected]

    @property
    def failed(self) -> int:
        return sum(self.statuses.values()) - self.succeeded

    @property
    def throughput(self) -> float:
        """Successful responses per second."""
        return self.succeeded / self.elapsed if self.elapsed else 0.0


class Answer(NamedTuple):
    status: int
    head: bytes  # the status line and the headers, without the blank line
    body: bytes


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.lost = False  # closed by either side: not to be used again

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but they write alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            self._complete(self.waiter)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ProtocolError(f"connection lost: {exc!r}"))

    async def request(self, data: bytes) -> Answer:
        """Send one complete request; its response."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()

    def _complete(self, waiter: asyncio.Future[Answer]) -> None:
        """Resolve ``waiter`` once the buffer holds a whole response (head and body)."""
        end = self.buffer.find(HEADER_END)
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        try:
            status, length = parse_head(head)
        except ProtocolError as exc:
            waiter.set_exception(exc)
            return
        total = end + len(HEADER_END) + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + len(HEADER_END) : total])
        del self.buffer[:total]
        waiter.set_result(Answer(status, head, body))


def parse_head(head: bytes) -> tuple[int, int]:
    """Status and Content-Length of a response head (without the blank line)."""
    if not head.startswith(b"HTTP/1.1 "):
        raise ProtocolError(f"not an HTTP/1.1 response: {head[:40]!r}")
    status = int(head[9:12])
    lowered = head.lower()
    at = lowered.find(CONTENT_LENGTH)
    if at < 0:
        # Servers answer FastAPI's JSON responses with a length; chunked bodies are not needed.
        raise ProtocolError(f"response without Content-Length: {head[:200]!r}")
    start = at + len(CONTENT_LENGTH)
    stop = lowered.find(b"\r\n", start)
    return status, int(lowered[start : stop if stop >= 0 else None])


def parse_headers(head: bytes) -> dict[str, str]:
    """The headers of a response head, by lower-case name (read only by who needs them)."""
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


async def connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(Connection, host, port)
    return protocol


async def run_load(
    host: str,
    port: int,
    requests: Iterator[bytes],
    *,
    seconds: float,
    connections: int = 64,
    expected: int = 200,
) -> LoadResult:
    """Send ``requests`` over ``connections`` keep-alive connections for ``seconds``.

    Connections open before the clock starts. Each sends its next request as soon as its previous
    response is in, until the time is up or ``requests`` runs out; requests in flight at the
    deadline finish and count.
    """
    pool = await asyncio.gather(*(connect(host, port) for _ in range(connections)))
    result = LoadResult(expected)
    started = time.perf_counter()
    deadline = started + seconds
    try:
        await asyncio.gather(*(_drive(c, requests, deadline, result) for c in pool))
    finally:
        result.elapsed = time.perf_counter() - started
        for conn in pool:
            conn.close()
    return result


async def _drive(
    conn: Connection, requests: Iterator[bytes], deadline: float, result: LoadResult
) -> None:
    clock = time.perf_counter
    statuses, latencies = result.statuses, result.latencies_ms
    for data in requests:  # the iterator is shared: connections take requests in turn
        began = clock()
        if began >= deadline:
            return
        try:
            status, _, body = await conn.request(data)
        except ProtocolError as exc:  # the server dropped us (it may answer 500s that way)
            status, body = 0, str(exc).encode()
        latencies.append((clock() - began) * 1000)
        statuses[status] += 1
        if status != result.expected and not result.first_error:
            result.first_error = body or b"(empty body)"
        if status == 0:
            return


async def get(host: str, port: int, path: str) -> Answer:
    """One GET on a fresh connection (readiness probes)."""
    conn = await connect(host, port)
    try:
        return await conn.request(request("GET", path, f"{host}:{port}", {}))
    finally:
        conn.close()


def post(path: str, host: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """The bytes of one HTTP/1.1 POST with a JSON body (for building request templates)."""
    return request("POST", path, host, headers, body)


def request(
    method: str, path: str, host: str, headers: Mapping[str, str], body: bytes = b""
) -> bytes:
    """The bytes of one HTTP/1.1 request: any but a GET carries a JSON body, maybe empty."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if method != "GET":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
