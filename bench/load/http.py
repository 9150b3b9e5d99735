"""The load tool's client: just enough of httpx's surface for ``ops.client.Api``, sent over the
benchmarks' own HTTP/1.1 connections (``bench.loadgen``).

Why: the load tool drives the real demo flows (``ops.demo.Demo``), which talk through
``Api.clients[service].request(...)`` / ``.get(...)`` and read ``status_code``, ``headers``,
``json()`` and ``text`` of the answer. httpx itself saturates a core long before the services do,
so this client speaks that little interface over ``bench.loadgen`` connections (one request in
flight per connection), and raises httpx's own transport errors on a timeout or a dropped
connection, so the demo's retry logic applies as is.

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
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson

from bench import loadgen
from shared.idempotency import is_final_answer

WRITES = frozenset({"POST", "PUT"})


class Reply:
    """The parts of an ``httpx.Response`` the demo flows read."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, answer: loadgen.Answer) -> None:
        self.status_code = answer.status
        self.headers = loadgen.parse_headers(answer.head)  # lower-case names
        self.content = answer.body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return orjson.loads(self.content)


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
        self.idle: list[loadgen.Connection] = []

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
        data = loadgen.request(method, path, f"{self.host}:{self.port}", headers or {}, body)
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
            reply = await self._exchange(conn, data)
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

    async def _exchange(self, conn: loadgen.Connection, data: bytes) -> Reply:
        """One request and its answer, failures raised as httpx raises them."""
        try:
            async with asyncio.timeout(self.timeout):
                return Reply(await conn.request(data))
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {self.timeout} s") from None
        except loadgen.ProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc

    async def _connection(self) -> loadgen.Connection:
        while self.idle:
            conn = self.idle.pop()
            if not conn.lost:
                return conn
        try:
            async with asyncio.timeout(self.timeout):
                return await loadgen.connect(self.host, self.port)
        except (OSError, TimeoutError) as exc:
            self.recorder.transport_errors["ConnectError"] += 1
            raise httpx.ConnectError(f"{self.host}:{self.port}: {exc!r}") from exc
