"""Where a run's CPU went, by process kind, from ``/proc`` (Linux): what a profile of one process
cannot show on a machine whose two cores are shared by the servers, the brokers and the load.

:func:`snapshot` reads every process's user + system time; :func:`spent` subtracts two snapshots
and adds the seconds up by kind (a Gradeline service, the bare baseline app, PostgreSQL,
RabbitMQ, this process as the load generator, anything else).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
POSTGRESQL = "PostgreSQL"
RABBITMQ = "RabbitMQ"
LOAD_GENERATOR = "load generator"
OTHER = "other processes"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU seconds (user + system) so far, and the kind, of every process alive at the time."""

    seconds: dict[int, tuple[float, str]]


def snapshot(kinds: dict[int, str]) -> Snapshot:
    """Every process's CPU time; ``kinds`` names the processes the caller started (pid -> kind)."""
    found: dict[int, tuple[float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        found[pid] = (ticks / _TICKS_PER_SECOND, kinds.get(pid) or _kind(pid, command))
    return Snapshot(found)


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds spent between the snapshots, by kind (kinds that spent nothing left out)."""
    total: dict[str, float] = {}
    for pid, (seconds, kind) in after.seconds.items():
        used = seconds - before.seconds.get(pid, (0.0, kind))[0]
        if used > 0:
            total[kind] = total.get(kind, 0.0) + used
    return total


def _kind(pid: int, command: bytes) -> str:
    if pid == os.getpid():
        return LOAD_GENERATOR
    if command.startswith(b"postgres"):
        return POSTGRESQL
    if b"beam.smp" in command or b"rabbitmq" in command:
        return RABBITMQ
    return OTHER
