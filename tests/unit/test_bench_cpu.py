"""The http suite's CPU accounting by process (bench/cpu.py), on this very process."""

from __future__ import annotations

import os
import time

from bench import cpu


def burn(seconds: float) -> None:
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass


def test_this_process_counts_as_the_load_generator_and_its_cpu_is_measured():
    before = cpu.snapshot({})
    burn(0.2)
    spent = cpu.spent(before, cpu.snapshot({}))

    assert before.seconds[os.getpid()][1] == cpu.LOAD_GENERATOR
    assert 0.15 <= spent.get(cpu.LOAD_GENERATOR, 0.0) < 2.0


def test_a_process_the_caller_names_is_counted_under_that_name():
    kinds = {os.getpid(): "enrollment"}
    before = cpu.snapshot(kinds)
    burn(0.1)
    spent = cpu.spent(before, cpu.snapshot(kinds))

    assert spent.get("enrollment", 0.0) >= 0.05
    assert cpu.LOAD_GENERATOR not in spent
