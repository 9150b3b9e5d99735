"""A lean keep-alive HTTP/1.1 client with just enough of httpx's surface for ``ops.demo.Api``.

Why: the load tool drives the real demo flows (``ops.demo.Demo``), which talk through
``Api.clients[service].request(...)`` / ``.get(...)`` and read ``status_code``, ``headers``,
``json()`` and ``text`` of the answer. httpx itself saturates a core long before the services do
(docs/performance-notes.md), so this client speaks the same little interface over raw asyncio
connections (one request in flight per connection, as ``bench.loadgen``), and raises httpx's own
transport errors on a timeout or a dropped connection, so the demo's retry logic applies as is.

Every answer is recorded in :class:`Recorder` (latency per service, statuses, transport
failures), and every POST/PUT may be sent twice on purpose (:class:`Duplicates`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import httpx
import orjson

from shared.idempotency import is_final_answer

HEADER_END = b"\r\n\r\n"
WRITES = frozenset({"POST", "PUT"})


class Reply:
    """The parts of an ``httpx.Response`` the demo flows read."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # lower-case names
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return orjson.loads(self.content)


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 "):
        raise httpx.RemoteProtocolError(f"not an HTTP/1.1 response: {lines[0][:40]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0][9:12]), headers


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Reply] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            self._complete(self.waiter)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(httpx.RemoteProtocolError(f"connection lost: {exc!r}"))

    def _complete(self, waiter: asyncio.Future[Reply]) -> None:
        end = self.buffer.find(HEADER_END)
        if end < 0:
            return
        status, headers = parse_head(bytes(self.buffer[:end]))
        if "content-length" not in headers:
            waiter.set_exception(httpx.RemoteProtocolError("response without Content-Length"))
            return
        total = end + len(HEADER_END) + int(headers["content-length"])
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + len(HEADER_END) : total])
        del self.buffer[:total]
        waiter.set_result(Reply(status, headers, body))

    async def exchange(self, data: bytes, timeout: float) -> Reply:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            async with asyncio.timeout(timeout):
                return await self.waiter
        except TimeoutError:
            self.close()
            raise httpx.ReadTimeout(f"no answer within {timeout} s") from None

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class Recorder:
    """What the clients saw: latencies per service, statuses, transport failures."""

    latencies_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    # service -> Idempotency-Key -> (method, path, status, body) of a write answered 2xx
    accepted: defaultdict[str, dict[str, tuple[str, str, int, bytes]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    duplicates_sent: int = 0
    duplicate_mismatches: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True)
class Duplicates:
    """Send this fraction of writes twice with the same key; ``concurrent`` of those at once."""

    fraction: float = 0.1
    concurrent: float = 0.5
    seed: int = 0


class LeanClient:
    """One service's client: a pool of keep-alive connections, httpx-like ``request``/``get``."""

    def __init__(
        self,
        service: str,
        base_url: str,
        recorder: Recorder,
        duplicates: Duplicates,
        *,
        timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(base_url)
        self.service = service
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.recorder = recorder
        self.duplicates = duplicates
        self.random = random.Random(f"{duplicates.seed}:{service}")
        self.timeout = timeout
        self.idle: list[_Connection] = []

    async def aclose(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()

    async def get(
        self, path: str, *, headers: Mapping[str, str] | None = None, params: Any = None
    ) -> Reply:
        if params:
            path = f"{path}?{urlencode(dict(params))}"
        return await self.request("GET", path, headers=headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        body = b"" if json is None else orjson.dumps(json)
        data = self._encode(method, path, dict(headers or {}), body)
        key = (headers or {}).get("Idempotency-Key")
        if method not in WRITES or key is None or self.random.random() >= self.duplicates.fraction:
            reply = await self._send(data)
        else:
            reply = await self._send_twice(data, f"{method} {path} key {key}")
        if method in WRITES and key is not None and 200 <= reply.status_code < 300:
            self.recorder.accepted[self.service][key] = (method, path, reply.status_code, body)
        return reply

    async def _send_twice(self, data: bytes, what: str) -> Reply:
        """A client that did not see its first answer (or a double click) sends again: both
        answers must agree, the later being the first one replayed."""
        self.recorder.duplicates_sent += 1
        if self.random.random() < self.duplicates.concurrent:
            first, second = await asyncio.gather(self._send(data), self._send(data))
        else:
            first = await self._send(data)
            second = await self._send(data)
        answers = (first, second)
        # 5xx and "try later" answers (e.g. 404 with Retry-After: the trainee's enrolment is still
        # on the bus) are not stored under the key: only final ones must agree.
        final = [a for a in answers if is_final_answer(a.status_code, a.headers, a.content)]
        if len(final) == 2 and (first.status_code, first.content) != (
            second.status_code,
            second.content,
        ):
            self.recorder.duplicate_mismatches.append(
                f"{what}: {first.status_code} {first.text[:200]} vs"
                f" {second.status_code} {second.text[:200]}"
            )
        return first if first.status_code < 500 else second

    async def _send(self, data: bytes) -> Reply:
        conn = await self._connection()
        began = time.perf_counter()
        try:
            reply = await conn.exchange(data, self.timeout)
        except httpx.TransportError as exc:
            conn.close()
            self.recorder.transport_errors[type(exc).__name__] += 1
            raise
        self.recorder.latencies_ms[self.service].append((time.perf_counter() - began) * 1000)
        self.recorder.statuses[reply.status_code] += 1
        if reply.headers.get("connection", "").lower() == "close":
            conn.close()
        else:
            self.idle.append(conn)
        return reply

    async def _connection(self) -> _Connection:
        while self.idle:
            conn = self.idle.pop()
            if not conn.lost:
                return conn
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                _, protocol = await loop.create_connection(_Connection, self.host, self.port)
        except (OSError, TimeoutError) as exc:
            self.recorder.transport_errors["ConnectError"] += 1
            raise httpx.ConnectError(f"{self.host}:{self.port}: {exc!r}") from exc
        return protocol

    def _encode(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if body or method in WRITES:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
