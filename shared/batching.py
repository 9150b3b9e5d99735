"""Coalesce concurrent small queries into one round trip, the way the group commit does appends.

Under load a service runs many requests at once, and each would otherwise pay a round trip and
asyncpg's per-query cost for a one-row lookup or insert (on the HTTP path the
``Idempotency-Key`` lookup and store were a large share of a command's CPU: ADR 0006). A
:class:`Batcher` hands
every call to one flusher task: while a batch is in flight new calls queue, and the next flush
takes them all. A lone call waits for nothing (its flush starts at once); under load the batch
grows by itself, so there is no timer to tune.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """``await batcher(item)``: the answer ``run`` gives for ``item`` in the batch it joined.

    ``run`` takes the queued items and returns one answer per item, in order. An exception from
    ``run`` reaches every caller of that batch; later batches still run. A batch holds at most
    ``max_batch`` items and, when ``weight`` is given, items weighing at most ``max_weight`` in
    all (a heavier item still goes, alone).
    """

    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[Sequence[R]]],
        max_batch: int = 256,
        *,
        weight: Callable[[T], int] | None = None,
        max_weight: int = 0,
    ) -> None:
        self._run = run
        self._max_batch = max_batch
        self._weight = weight
        self._max_weight = max_weight
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._queue:
            batch = self._take()
            try:
                answers = await self._run([item for item, _ in batch])
                if len(answers) != len(batch):
                    raise RuntimeError(f"{len(answers)} answers for a batch of {len(batch)}")
            except BaseException as exc:  # every waiter learns of it; none hangs
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():  # its caller may have been cancelled meanwhile
                    future.set_result(answer)

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        size = min(len(self._queue), self._max_batch)
        if self._weight is not None:
            size, total = 0, 0
            for item, _ in self._queue[: self._max_batch]:
                total += self._weight(item)
                if size and total > self._max_weight:
                    break
                size += 1
        batch, self._queue = self._queue[:size], self._queue[size:]
        return batch


class Lookup:
    """Concurrent one-key lookups of one query, answered by one statement per batch.

    ``sql`` takes every key of the batch as ``$1`` (``... WHERE trainee_id = ANY($1::text[])``)
    and returns the key as its first column, at most one row per key. Each caller gets its key's
    row, or None. A command that must first find the record it acts on (training's trainee, say)
    would otherwise pay a round trip, a pool checkout and a planning of its own for one row.
    """

    def __init__(self, pool: Any, sql: str) -> None:
        self.pool = pool
        self.sql = sql
        self._batcher: Batcher[str, Any] = Batcher(self._fetch)

    async def __call__(self, key: str) -> Any:
        return await self._batcher(key)

    async def _fetch(self, keys: list[str]) -> list[Any]:
        rows = await self.pool.fetch(self.sql, list(dict.fromkeys(keys)))
        found = {row[0]: row for row in rows}
        return [found.get(key) for key in keys]


def lookup(state: Any, sql: str) -> Lookup:
    """The app's :class:`Lookup` of ``sql`` (``state`` is ``app.state``), made on first use over
    the app's pool, and made again if the pool was replaced (an app started anew)."""
    lookups: dict[str, Lookup] | None = getattr(state, "lookups", None)
    if lookups is None:
        lookups = state.lookups = {}
    found = lookups.get(sql)
    if found is None or found.pool is not state.pool:
        found = lookups[sql] = Lookup(state.pool, sql)
    return found
