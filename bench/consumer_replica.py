"""One consumer replica as an OS process of its own, for the partition-spread tests and the
scale-out benchmark, which start several and kill some (``kill -9``)::

    python -m bench.consumer_replica LABEL

Settings come from ``GRADELINE_*`` (``GRADELINE_PG_DSN`` names the consuming service's own
database). The replica consumes service ``core``'s events as service ``sink`` and applies each
one as a row of ``effects`` bearing its label, noting in ``order_violations`` any event applied
before its stream's previous version. Whoever starts replicas creates those tables first
(:data:`EFFECTS_DDL`): replicas creating them at once would collide.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import asyncpg

from shared import db
from shared.consumer import Consumer
from shared.db import Conn
from shared.events import Envelope
from shared.inbox import Handler
from shared.settings import Settings

SERVICE = "sink"
BINDING_KEYS = ("core.#",)
ROOT = Path(__file__).resolve().parent.parent
# The lease TTL the tests and the benchmark give their replicas: rows older are gone replicas.
LIVE_SECONDS = 3.0

EFFECTS_DDL = """
CREATE TABLE IF NOT EXISTS effects (event_id uuid, stream_id text, version int, replica text,
                                    applied_at timestamptz DEFAULT clock_timestamp());
CREATE INDEX IF NOT EXISTS effects_stream_idx ON effects (stream_id, version);
CREATE TABLE IF NOT EXISTS order_violations (stream_id text, version int, seen_before int);
"""


def recorder(label: str) -> Handler:
    """The effect: one row per event, and an out-of-order application noted."""

    async def record(conn: Conn, envelope: Envelope) -> None:
        last = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM effects WHERE stream_id = $1",
            envelope.stream_id,
        )
        if last != envelope.version - 1:
            await conn.execute(
                "INSERT INTO order_violations VALUES ($1, $2, $3)",
                envelope.stream_id,
                envelope.version,
                last,
            )
        await conn.execute(
            "INSERT INTO effects (event_id, stream_id, version, replica) VALUES ($1, $2, $3, $4)",
            envelope.event_id,
            envelope.stream_id,
            envelope.version,
            label,
        )

    return record


async def shares(pool: asyncpg.Pool) -> list[list[int]]:
    """The partitions each live replica of ``sink`` consumed at its last beat (lease table)."""
    rows = await pool.fetch(
        "SELECT partitions FROM consumer_members WHERE service = $1"
        " AND last_seen > now() - make_interval(secs => $2) ORDER BY replica",
        SERVICE,
        LIVE_SECONDS,
    )
    return [sorted(r["partitions"]) for r in rows]


def spread(held: list[list[int]], replicas: int, partitions: int) -> bool:
    """Whether ``replicas`` replicas consume disjoint shares, none empty, covering all
    ``partitions`` (a replica that just joined beats once before it subscribes)."""
    taken = sorted(p for share in held for p in share)
    return len(held) == replicas and all(held) and taken == list(range(partitions))


def start(label: str, env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """The replica as a child process; ``env`` holds its ``GRADELINE_*`` variables."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.consumer_replica", label],
            cwd=ROOT,
            env={**_inherited(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _inherited() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GRADELINE_")}


async def main(label: str) -> None:
    settings = Settings()
    pool = await db.create_pool(settings.pg_dsn, size=4)
    try:
        consumer = Consumer(settings, SERVICE, pool, recorder(label), BINDING_KEYS)
        await consumer.run()
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
