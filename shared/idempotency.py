"""``Idempotency-Key`` on POST and PUT (docs/http.md): a repeat gets the first response again.

:class:`IdempotencyMiddleware` (pure ASGI, inside the body-size limit) handles every POST/PUT that
carries the header:

- only a verified principal's requests take part (the guard, shared.guard, verified the token
  before this middleware runs): without one, nothing is looked up or stored;
- the key is scoped to method + concrete path + the token's subject, so two clients never share
  a key, and a key reused on another resource (another trainee's route) is that resource's own
  request: neither its stored answer nor the event store's memory of the key's effect can answer
  for another stream (ADR 0010);
- a stored response for the scope and key is replayed (status, body, headers, plus
  ``Idempotent-Replayed: true``) when the request hash matches, and a 422 problem naming the
  header answers a key reused for a different body (the IETF draft's rule);
- otherwise the request runs with ``request.state.idempotency_key`` set (a command route reads it
  as ``CommandContext.idempotency_key``, shared.commands) and passes it to
  ``store.append(idempotency_key=...)``;
  the response is stored when it is final (2xx or a non-transient 4xx other than 401/403),
  never for 5xx;
- stored responses are kept for ``GRADELINE_IDEMPOTENCY_RETENTION`` (7 days by default; the
  draft asks for at least 24 hours): :func:`purge_idempotency`, a background task of every
  service process, deletes older ones. After that, a repeat runs the handler again and the event
  store, which keeps its keys, answers the append as a replay: the effect still happens once.

Two concurrent requests with one key may both run the handler; the event store's own idempotency
key makes the append happen once, and ``INSERT ... ON CONFLICT DO NOTHING`` keeps the first stored
response, which the later request then answers with. So the effect is single and both clients see
one answer. (A key reused concurrently with *different* bodies is a client error; one of the two
gets the 422, the other the outcome of whichever append won.) The stored response is written
after the handler's append commits; should the process die in between, the retry runs the handler
again and the event store answers its append as a replay, so the effect still happens once.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import PRINCIPAL_STATE, Principal
from shared.batching import Batcher
from shared.problems import Problem, ProblemType

if TYPE_CHECKING:
    from shared.api import AppContext

log = structlog.get_logger("gradeline.idempotency")

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_METHODS = frozenset({"POST", "PUT"})
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: safe in logs and SQL text
# Per-response headers: a replay gets fresh ones from the outer middleware and the server.
_NOT_STORED = frozenset({b"content-length", b"date", b"server", b"x-correlation-id", b"set-cookie"})
# Answers that tell the client to retry later; replaying them would make the retry useless.
_TRANSIENT = frozenset({408, 425, 429})
_CONCURRENCY_TYPE = ProblemType.CONCURRENCY.uri
# Answers about the caller rather than the request: a token renewed or a role granted later must
# let the same request through, so they are never remembered.
_ABOUT_THE_CALLER = frozenset({401, 403})


def is_final_answer(status: int, header_names: Iterable[str], body: bytes) -> bool:
    """Whether an answer is stored under its Idempotency-Key and replayed to a repeat.

    2xx and 4xx are final, except "try later" answers: 408/425/429, anything carrying
    ``Retry-After`` (e.g. an upstream event still on its way) and a lost optimistic-concurrency
    race, where a retry must decide afresh; and 401/403, which say who may call, not what the
    request did. 5xx is never stored. Clients that check replays (the load tool) use the same rule.
    """
    if status in _TRANSIENT or status in _ABOUT_THE_CALLER:
        return False
    if any(name.lower() == "retry-after" for name in header_names):
        return False
    if status == 409 and _CONCURRENCY_TYPE.encode() in body:
        return False
    return 200 <= status < 300 or 400 <= status < 500


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: bytes
    headers: list[tuple[str, str]]

    async def send(self, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        headers += [
            (b"content-length", str(len(self.body)).encode()),
            (REPLAYED_HEADER.lower().encode(), b"true"),
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


@dataclass(slots=True)
class _Capture:
    """The inner app's response, held back until it is stored (or found already stored)."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)

    def storable(self) -> bool:
        names = (k.decode("latin-1") for k, _ in self.headers)
        return self.complete and is_final_answer(self.status, names, b"".join(self.chunks))

    def stored(self, request_hash: str) -> StoredResponse:
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in self.headers
            if k.lower() not in _NOT_STORED
        ]
        return StoredResponse(request_hash, self.status, b"".join(self.chunks), headers)

    async def forward(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": b"".join(self.chunks)})


class IdempotencyMiddleware:
    """Replay or store POST/PUT responses by ``Idempotency-Key`` (``app.state.pool``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key")
        if scope["type"] != "http" or scope["method"] not in _METHODS or key is None:
            await self.app(scope, receive, send)
            return
        key_scope = _key_scope(scope)
        if key_scope is None:  # no verified caller: nothing to look up, nothing to remember
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.fullmatch(key):
            await _invalid_key("must be 1 to 255 visible ASCII characters").to_response()(
                scope, receive, send
            )
            return
        body = await _read_body(receive)
        request_hash = _request_hash(scope, body)
        responses = _responses(scope["app"])
        stored = await responses.load(key_scope, key)
        if stored is None:
            first = _Capture()
            scope.setdefault("state", {})["idempotency_key"] = f"{key_scope}:{key}"
            await self.app(scope, _replaying(body, receive), first.send)
            stored = await responses.store(key_scope, key, first, request_hash)
            if stored is None:  # ours is the answer to remember (or not storable): send it
                await first.forward(send)
                return
        if stored.request_hash != request_hash:
            problem = _invalid_key("was already used for a different request")
            await problem.to_response()(scope, receive, send)
            return
        await stored.send(send)


def _invalid_key(reason: str) -> Problem:
    return ProblemType.IDEMPOTENCY_KEY(
        f"{IDEMPOTENCY_HEADER} {reason}",
        errors=[
            {"field": f"header.{IDEMPOTENCY_HEADER}", "message": reason, "type": "idempotency"}
        ],
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _key_scope(scope: Scope) -> str | None:
    """``METHOD /concrete/path subject``, or None when no verified principal made the request
    (no token, or a public route): such requests take no part in idempotency."""
    principal: Principal | None = scope.get("state", {}).get(PRINCIPAL_STATE)
    if principal is None:
        return None
    return f"{scope['method']} {scope['path']} {principal.sub}"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # client went away; the inner app will see the disconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A receive that hands the buffered body to the inner app, then defers to the client."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _request_hash(scope: Scope, body: bytes) -> str:
    """What makes two requests "the same": concrete path, query and body (JSON key order aside)."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    digest = hashlib.sha256()
    for part in (scope["path"].encode(), scope.get("query_string", b""), canonical):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no ambiguous joins
        digest.update(part)
    return digest.hexdigest()


# A primary-key probe per key. A plain join's plan, made once per connection while the table was
# small, hashed a sequential scan of the whole table, and was kept as the table grew wherever no
# ANALYZE came to invalidate it (autovacuum off or behind). LIMIT 1 (the key is the primary key)
# keeps the planner from flattening the LATERAL subquery back into that join.
_LOAD_SQL = (
    "SELECT i.o, h.request_hash, h.status, h.body, h.headers"
    " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(scope, key, o)"
    " CROSS JOIN LATERAL (SELECT * FROM http_idempotency s"
    " WHERE s.scope = i.scope AND s.key = i.key LIMIT 1) h"
)
# One statement, so one round trip: its implicit transaction commits without waiting for the WAL
# flush (set_config(..., true) is SET LOCAL; the commit reads it before the transaction ends).
# The stored answer is a convenience, the event store's own idempotency key (durable) keeps the
# effect single: lost in a crash, a retry decides again and the store replays the first append.
_STORE_SQL = (
    "INSERT INTO http_idempotency (scope, key, request_hash, status, body, headers)"
    " SELECT s, k, r, c, b, h::jsonb"
    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit,"
    " unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bytea[], $6::text[])"
    " AS u(s, k, r, c, b, h)"
    " ON CONFLICT (scope, key) DO NOTHING RETURNING scope, key"
)


class ResponseStore:
    """The stored responses of one service, looked up and written in batches.

    Concurrent requests share one lookup query and one insert (:class:`shared.batching.Batcher`):
    under load that is a round trip per burst instead of one per request.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._loads: Batcher[tuple[str, str], StoredResponse | None] = Batcher(self._load_many)
        self._stores: Batcher[tuple[str, str, StoredResponse], bool] = Batcher(self._store_many)

    async def load(self, key_scope: str, key: str) -> StoredResponse | None:
        return await self._loads((key_scope, key))

    async def store(
        self, key_scope: str, key: str, capture: _Capture, request_hash: str
    ) -> StoredResponse | None:
        """Store the response if final; None when stored (or not storable), else the response a
        concurrent request with the same key stored first."""
        if not capture.storable():
            return None
        try:
            if await self._stores((key_scope, key, capture.stored(request_hash))):
                return None
            return await self.load(key_scope, key)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            # The command's effect is committed; only its remembered answer is lost. Answer the
            # client now rather than with a 500: a retry with the key decides again, and the
            # event store replays the first append.
            log.warning("idempotency.store_failed", scope=key_scope, error=repr(exc))
            return None

    async def _load_many(self, wanted: list[tuple[str, str]]) -> list[StoredResponse | None]:
        rows = await self.pool.fetch(_LOAD_SQL, [s for s, _ in wanted], [k for _, k in wanted])
        found: list[StoredResponse | None] = [None] * len(wanted)
        for row in rows:
            found[row[0] - 1] = StoredResponse(row[1], row[2], row[3], [(k, v) for k, v in row[4]])
        return found

    async def _store_many(self, items: list[tuple[str, str, StoredResponse]]) -> list[bool]:
        """True for each item inserted, False where the key was stored first (earlier, or by an
        item before it in this batch)."""
        rows = await self.pool.fetch(
            _STORE_SQL,
            [scope for scope, _, _ in items],
            [key for _, key, _ in items],
            [r.request_hash for _, _, r in items],
            [r.status for _, _, r in items],
            [r.body for _, _, r in items],
            # As JSON text: asyncpg would read a list of pairs as a 3-dimensional array.
            [orjson.dumps(r.headers).decode() for _, _, r in items],
        )
        inserted = {(row[0], row[1]) for row in rows}
        answers = []
        for scope, key, _ in items:
            answers.append((scope, key) in inserted)
            inserted.discard((scope, key))  # a second item with the same key came too late
        return answers


def _responses(app: Any) -> ResponseStore:
    """The app's :class:`ResponseStore`, made on first use (the pool exists by then)."""
    state = app.state
    responses: ResponseStore | None = getattr(state, "idempotent_responses", None)
    if responses is None or responses.pool is not state.pool:
        responses = ResponseStore(state.pool)
        state.idempotent_responses = responses
    return responses


# --- housekeeping ---------------------------------------------------------------------------

PURGE_BATCH_SIZE = 5_000
# Oldest first through the created_at index, a batch per statement: each transaction stays short
# and holds few row locks, however many answers expired since the last run.
_PURGE_SQL = (
    "DELETE FROM http_idempotency h USING (SELECT scope, key FROM http_idempotency"
    " WHERE created_at < now() - $1::interval ORDER BY created_at LIMIT $2) expired"
    " WHERE h.scope = expired.scope AND h.key = expired.key"
)


async def purge_expired_answers(
    pool: asyncpg.Pool, retention: timedelta, *, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete the stored answers older than ``retention``; how many were deleted."""
    purged = 0
    while True:
        status = await pool.execute(_PURGE_SQL, retention, batch_size)
        deleted = int(status.split()[-1])  # "DELETE n"
        purged += deleted
        if deleted < batch_size:
            return purged


async def purge_idempotency(ctx: AppContext) -> None:
    """Every ``idempotency_purge_interval_seconds``, purge answers past the retention period.
    Each service process runs it (API-only replicas store answers too); concurrent runs of
    several replicas only delete the same rows once. A failed run is logged, counted and retried
    at the next interval."""
    settings = ctx.settings
    while True:
        await asyncio.sleep(settings.idempotency_purge_interval_seconds)
        try:
            purged = await purge_expired_answers(ctx.pool, settings.idempotency_retention)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            ctx.metrics.count_idempotency_purge(failed=True)
            log.warning("idempotency.purge_failed", error=repr(exc))
            continue
        ctx.metrics.count_idempotency_purge(purged=purged)
        if purged:
            log.info("idempotency.purged", answers=purged)
