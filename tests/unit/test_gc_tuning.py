"""The service process's garbage-collector tuning (shared/api.py, tune_gc)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared import api
from shared.settings import Settings


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_default_setting_raises_the_young_generation_threshold():
    assert Settings().gc_gen0_threshold == 10_000


def test_tuning_sets_the_young_threshold_and_keeps_the_older_ones(thresholds):
    api.tune_gc(12_345)

    assert gc.get_threshold() == (12_345, thresholds[1], thresholds[2])
    assert gc.get_freeze_count() > 0  # start-up objects moved out of the collector's way


def test_zero_keeps_the_interpreters_thresholds(thresholds):
    api.tune_gc(0)

    assert gc.get_threshold() == thresholds


def test_a_negative_threshold_is_refused_by_the_settings():
    with pytest.raises(ValueError, match="gc_gen0_threshold"):
        Settings(gc_gen0_threshold=-1)
