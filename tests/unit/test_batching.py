"""The batcher: concurrent calls share one run, each gets its own answer, failures reach all."""

from __future__ import annotations

import asyncio

import pytest

from shared.batching import Batcher


class Recorder:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def run(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await asyncio.sleep(0.01)  # a round trip: later callers queue meanwhile
        if self.fail_on in items:
            raise ValueError(f"refused {self.fail_on}")
        return [i * 10 for i in items]


async def test_a_lone_call_runs_at_once_in_a_batch_of_one() -> None:
    recorder = Recorder()
    assert await Batcher(recorder.run)(7) == 70
    assert recorder.batches == [[7]]


async def test_calls_made_together_share_one_run() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.run)
    answers = await asyncio.gather(*(batcher(i) for i in range(1, 21)))
    assert answers == [i * 10 for i in range(1, 21)]
    assert recorder.batches == [list(range(1, 21))]


async def test_calls_queued_while_a_batch_is_in_flight_share_the_next_run() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.run)
    first = asyncio.ensure_future(batcher(1))
    await asyncio.sleep(0)  # the first batch is in flight
    answers = await asyncio.gather(*(batcher(i) for i in range(2, 21)))
    assert (await first, answers) == (10, [i * 10 for i in range(2, 21)])
    assert recorder.batches == [[1], list(range(2, 21))]


async def test_batches_are_bounded() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.run, max_batch=5)
    await asyncio.gather(*(batcher(i) for i in range(12)))
    assert [len(b) for b in recorder.batches] == [5, 5, 2]


async def test_a_batch_is_bounded_by_weight_and_a_heavy_item_goes_alone() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.run, max_batch=10, weight=lambda i: i, max_weight=10)
    answers = await asyncio.gather(*(batcher(i) for i in (4, 6, 1, 30, 2, 3)))
    assert answers == [40, 60, 10, 300, 20, 30]
    # 4 + 6 = 10 fits; 1 + 30 would not; 30 is over the limit alone, so it goes alone.
    assert recorder.batches == [[4, 6], [1], [30], [2, 3]]


async def test_a_failing_run_fails_its_callers_only() -> None:
    recorder = Recorder(fail_on=3)
    batcher = Batcher(recorder.run)
    first = asyncio.ensure_future(batcher(1))
    await asyncio.sleep(0)  # the first batch is in flight
    doomed = [asyncio.ensure_future(batcher(i)) for i in (2, 3)]
    assert await first == 10
    for call in doomed:
        with pytest.raises(ValueError, match="refused 3"):
            await call
    assert await batcher(4) == 40  # the batcher still works


async def test_a_wrong_number_of_answers_is_an_error_not_a_hang() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    batcher = Batcher(short)
    with pytest.raises(RuntimeError, match="0 answers for a batch of 1"):
        await asyncio.wait_for(batcher(1), timeout=5)


async def test_a_cancelled_caller_does_not_break_the_batch() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.run)
    first = asyncio.ensure_future(batcher(1))
    await asyncio.sleep(0)
    cancelled = asyncio.ensure_future(batcher(2))
    kept = asyncio.ensure_future(batcher(3))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert (await first, await kept) == (10, 30)
    assert cancelled.cancelled()
