"""The demo's HTTP client of the four services: development tokens, idempotent writes retried
while the answer says "not yet", and bounded waits for what another service has yet to learn.

Every POST and PUT carries the ``Idempotency-Key`` its caller gives, so a write sent again (a
retry, or the demo run a second time) replays its first answer and appends nothing. The
connections are the caller's: httpx clients for the demo (:func:`http_clients`), the load tool's
lean client for ``python -m bench.load``; both speak :class:`HttpClient`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from shared.auth import mint_token

SERVICES = ("enrollment", "training", "assessment", "compensation")
T = TypeVar("T")
JsonDict = dict[str, Any]


class DemoError(RuntimeError):
    """The demo cannot go on: a service refused a request, or a wait timed out."""


class Answer(Protocol):
    """What the client reads of an HTTP answer (an ``httpx.Response`` has it)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


class HttpClient(Protocol):
    """One service's connections (an ``httpx.AsyncClient`` is one); transport failures raise
    ``httpx.TransportError``."""

    async def request(
        self, method: str, url: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Answer: ...
    async def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, params: Any = None
    ) -> Answer: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Who:
    """A principal of the contract, as a development token will claim it."""

    sub: str
    role: str
    branch_id: str | None = None
    department: str | None = None


@dataclass
class Stats:
    writes: int = 0
    replayed: int = 0
    reads: int = 0


def service_urls(host: str = "127.0.0.1", port_offset: int = 0) -> dict[str, str]:
    from shared.settings import SERVICE_PORTS

    return {s: f"http://{host}:{SERVICE_PORTS[s] + port_offset}" for s in SERVICES}


def http_clients(
    urls: Mapping[str, str], transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> dict[str, HttpClient]:
    """One httpx client per service (a few connections each); ``transports`` (service -> httpx
    transport) lets tests call in-process apps."""
    limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
    return {
        s: httpx.AsyncClient(
            base_url=urls[s],
            transport=(transports or {}).get(s),
            limits=limits,
            timeout=httpx.Timeout(60.0, connect=10.0),
        )
        for s in SERVICES
    }


class Api:
    """The services' clients, tokens, retries and bounded waits."""

    def __init__(self, clients: Mapping[str, HttpClient], secret: str, wait_seconds: float) -> None:
        self.clients = dict(clients)
        self.secret = secret
        self.wait_seconds = wait_seconds
        self.stats = Stats()
        self._tokens: dict[Who, str] = {}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def auth(self, who: Who) -> dict[str, str]:
        token = self._tokens.get(who)
        if token is None:
            token = mint_token(
                self.secret,
                who.sub,
                [who.role],
                branch_id=who.branch_id,
                department=who.department,
                ttl_seconds=8 * 3600,
            )
            self._tokens[who] = token
        return {"Authorization": f"Bearer {token}"}

    async def write(
        self,
        service: str,
        method: str,
        path: str,
        body: JsonDict,
        who: Who,
        key: str,
        *,
        stored_not_found: bool = False,
        exists_ok: bool = False,
    ) -> JsonDict:
        """POST/PUT with an Idempotency-Key, retried while the answer says "not yet".

        A 404 with Retry-After (the upstream event is on its way) is retried with the same key.
        ``stored_not_found``: this service remembers a 404 under the key; the caller waited for
        the upstream fact already, so a 404 is a race: retry under a derived key (a re-run
        replays the same sequence of answers). ``exists_ok``: a 409 conflict (not a rule's) saying
        the resource exists already (a branch registered before) is the outcome wanted: its
        problem is returned."""
        deadline = time.monotonic() + self.wait_seconds
        attempt, pause = 0, 0.1
        while True:
            headers = {
                **self.auth(who),
                "Idempotency-Key": key if not attempt else f"{key}~{attempt}",
            }
            try:
                answer = await self.clients[service].request(
                    method, path, json=body, headers=headers
                )
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise DemoError(f"{method} {service}{path}: {exc!r}") from exc
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            self.stats.writes += 1
            if answer.headers.get("idempotent-replayed") == "true":
                self.stats.replayed += 1
            if 200 <= answer.status_code < 300:
                result: JsonDict = answer.json()
                return result
            retry = _retryable(answer)
            if exists_ok and answer.status_code == 409 and not retry:
                existing: JsonDict = answer.json()
                if str(existing.get("type", "")).endswith("/conflict"):  # not a rule's refusal
                    return existing
            if (
                answer.status_code == 404
                and stored_not_found
                and "retry-after" not in answer.headers
            ):
                attempt, retry = attempt + 1, True
            if not retry or time.monotonic() > deadline:
                hint = ""
                if answer.status_code == 422 and "Idempotency-Key" in answer.text:
                    hint = (
                        " (these ids were loaded with different data: another version of the"
                        " demo? use another --seed or GRADELINE_NAMESPACE)"
                    )
                raise DemoError(f"{method} {service}{path} as {who.sub}: {_problem(answer)}{hint}")
            await asyncio.sleep(min(pause, float(answer.headers.get("retry-after", pause))))
            pause = min(pause * 1.5, 1.0)

    async def post(
        self, service: str, path: str, body: JsonDict, who: Who, key: str, **kw: Any
    ) -> JsonDict:
        return await self.write(service, "POST", path, body, who, key, **kw)

    async def get(
        self, service: str, path: str, who: Who, params: Mapping[str, str] | None = None
    ) -> Answer:
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.1
        while True:
            self.stats.reads += 1
            try:
                return await self.clients[service].get(path, headers=self.auth(who), params=params)
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise DemoError(f"GET {service}{path}: {exc!r}") from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def get_json(self, service: str, path: str, who: Who, **params: str) -> JsonDict:
        answer = await self.get(service, path, who, params)
        if answer.status_code != 200:
            raise DemoError(f"GET {service}{path} as {who.sub}: {_problem(answer)}")
        result: JsonDict = answer.json()
        return result

    async def until(
        self, what: str, check: Callable[[], Awaitable[T | None]], seconds: float | None = None
    ) -> T:
        """Poll ``check`` until it answers something, at most ``seconds`` (else DemoError)."""
        limit = self.wait_seconds if seconds is None else seconds
        deadline = time.monotonic() + limit
        pause = 0.05
        while True:
            try:
                result = await check()
            except httpx.TransportError:
                result = None
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise DemoError(f"gave up after {limit:.0f} s waiting for {what}")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.5)


async def wait_ready(api: Api, seconds: float = 90.0) -> None:
    """Each service's /ready (database, broker, consumers declared) answers 200."""

    async def all_ready() -> bool | None:
        answers = await asyncio.gather(
            *(api.clients[s].get("/ready") for s in SERVICES), return_exceptions=True
        )
        down = [
            s
            for s, a in zip(SERVICES, answers, strict=True)
            if isinstance(a, BaseException) or a.status_code != 200
        ]
        return True if not down else None

    try:
        await api.until("every service to be ready", all_ready, seconds)
    except DemoError:
        states = []
        for s in SERVICES:
            try:
                states.append(f"{s}: {(await api.clients[s].get('/ready')).status_code}")
            except httpx.TransportError as exc:
                states.append(f"{s}: {exc!r}")
        raise DemoError("services not ready: " + ", ".join(states)) from None


def _retryable(answer: Answer) -> bool:
    if answer.status_code == 429 or answer.status_code >= 500:
        return True
    if answer.status_code == 404 and "retry-after" in answer.headers:
        return True
    return answer.status_code == 409 and "concurrency" in answer.text


def _problem(answer: Answer) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"{answer.status_code} {answer.text[:200]}"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title")
        errors = body.get("errors")
        return f"{answer.status_code} {detail}" + (f" {errors}" if errors else "")
    return f"{answer.status_code} {body}"
