"""``gradeline backup DIRECTORY`` and ``gradeline restore DIRECTORY``: the four services'
databases and the key database, dumped as one consistent cut, and restored into a fresh
namespace that converges (docs/operations.md, "Backup and restore").

A cut is consistent when no consuming service holds an upstream event that its producer's copy
lacks: restored, that producer would record new events under the same stream versions, and the
consumer's copy would disagree with it for ever. The backup exports a snapshot of every service
database (consumers before their producers, so that only the training <-> assessment cycle can
leave such a "ghost"), checks the cut in those snapshots, takes it again when a ghost is found,
and then dumps each database with ``pg_dump --snapshot``. The key database is exported last: every
key an event of the cut was sealed with was made before that event committed.

What a consumer lacks at the cut (published but still queued, in flight, dead-lettered, or not
yet published) is recorded per (consumer, producer) pair as the position after which the
producer's events are to be back-filled (``ops/backfill.py``); the inboxes drop what they hold.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from rich.console import Console

from ops.backfill import backfill
from shared import db
from shared.keystore import KEYSTORE
from shared.relay import checkpoint_name
from shared.settings import Settings
from shared.topology import CONSUMERS, consumers_of

SERVICES = ("enrollment", "training", "assessment", "compensation")
# The order the snapshots are taken in: each consumer before its producers where it can be, so
# that only assessment's copy of training's events can run ahead of training's snapshot.
SNAPSHOT_ORDER = ("compensation", "training", "assessment", "enrollment")
CUT_ATTEMPTS = 20
MANIFEST = "manifest.json"
FORMAT = 1


class BackupFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Catchup:
    """What ``consumer`` lacked of ``producer``'s events at the cut: back-fill after ``after``
    through ``through`` (nothing when they are equal)."""

    consumer: str
    producer: str
    after: int
    through: int
    lacking: int


@dataclass(frozen=True)
class Manifest:
    namespace: str
    taken_at: str
    attempts: int  # cuts taken until one was consistent
    heads: dict[str, int]  # each store's last position in the cut
    relayed: dict[str, int]  # each relay's checkpoint in the cut
    files: dict[str, str]  # database (service name, or "keys") -> dump file
    catchups: list[Catchup]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2)

    @staticmethod
    def read(directory: Path) -> Manifest:
        raw = json.loads((directory / MANIFEST).read_text())
        if raw.pop("format", None) != FORMAT:
            raise BackupFailed(f"{directory / MANIFEST}: not a backup of this format ({FORMAT})")
        raw["catchups"] = [Catchup(**c) for c in raw["catchups"]]
        return Manifest(**raw)


def pairs() -> list[tuple[str, str]]:
    """(consumer, producer) for every producer a consuming service binds."""
    return [(c, p) for p in SERVICES for c in consumers_of(p) if c in CONSUMERS]


def _dsn(settings: Settings, database: str) -> str:
    keys = database == KEYSTORE
    server = (settings.keystore_dsn or settings.pg_dsn) if keys else settings.pg_dsn
    return db.dsn_for_database(server, settings.database_name(database))


# --- the cut ----------------------------------------------------------------------------------

_UPSTREAM_POSITIONS = """
SELECT (envelope ->> 'position')::bigint FROM inbox WHERE service = $1
UNION ALL SELECT (envelope ->> 'position')::bigint FROM inbox_parked WHERE service = $1
"""


async def _export(conns: Mapping[str, asyncpg.Connection], stack: AsyncExitStack) -> dict[str, str]:
    """A snapshot exported by each connection, in :data:`SNAPSHOT_ORDER` (keys last), each
    held by an open read-only transaction until ``stack`` closes."""
    snapshots = {}
    for name in (*SNAPSHOT_ORDER, KEYSTORE):
        transaction = conns[name].transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        stack.push_async_callback(transaction.rollback)
        snapshots[name] = await conns[name].fetchval("SELECT pg_export_snapshot()")
    return snapshots


async def _catchups(
    conns: Mapping[str, asyncpg.Connection],
) -> tuple[dict[str, int], list[Catchup], list[str]]:
    """:func:`judge_cut` of what the snapshots hold."""
    positions = {
        s: {r[0] for r in await conns[s].fetch("SELECT position FROM events")} for s in SERVICES
    }
    held = {
        (c, p): {r[0] for r in await conns[c].fetch(_UPSTREAM_POSITIONS, p)} for c, p in pairs()
    }
    return judge_cut(positions, held)


def judge_cut(
    positions: Mapping[str, set[int]], held: Mapping[tuple[str, str], set[int | None]]
) -> tuple[dict[str, int], list[Catchup], list[str]]:
    """From each store's positions and, per (consumer, producer), the producer's positions the
    consumer holds: the heads, what each consumer lacks, and the ghosts (empty: consistent)."""
    heads = {s: max(p, default=0) for s, p in positions.items()}
    catchups, ghosts = [], []
    for (consumer, producer), kept in held.items():
        known = {p for p in kept if p is not None}  # None: sent before envelopes had positions
        if extra := known - positions[producer]:
            ghosts.append(f"{consumer} holds {len(extra)} {producer} events beyond its cut")
        lacking = positions[producer] - known
        after = min(lacking) - 1 if lacking else heads[producer]
        catchups.append(Catchup(consumer, producer, after, heads[producer], len(lacking)))
    return heads, catchups, ghosts


async def _dump(
    settings: Settings, name: str, snapshot: str, file: Path, pg_dump: str = "pg_dump"
) -> None:
    process = await asyncio.create_subprocess_exec(
        pg_dump,
        "--format=custom",
        f"--snapshot={snapshot}",
        f"--file={file}",
        f"--dbname={_dsn(settings, name)}",
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise BackupFailed(f"pg_dump of {name} failed ({process.returncode}): {err.decode()}")


async def take_backup(settings: Settings, directory: Path, pg_dump: str = "pg_dump") -> Manifest:
    """Dump the namespace's five databases into ``directory`` as one consistent cut."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    async with AsyncExitStack() as outer:
        conns = {}
        for name in (*SERVICES, KEYSTORE):
            conns[name] = await asyncpg.connect(_dsn(settings, name))
            outer.push_async_callback(conns[name].close)
        for attempt in range(1, CUT_ATTEMPTS + 1):
            async with AsyncExitStack() as cut:
                snapshots = await _export(conns, cut)
                heads, catchups, ghosts = await _catchups(conns)
                if ghosts:
                    continue  # a cycle's event crossed between two snapshots: cut again
                relayed = {
                    s: int(
                        await conns[s].fetchval(
                            "SELECT coalesce(max(position), 0) FROM checkpoints WHERE name = $1",
                            checkpoint_name(s),
                        )
                    )
                    for s in SERVICES
                }
                files = {name: f"{name}.dump" for name in snapshots}
                await asyncio.gather(
                    *(
                        _dump(settings, name, snapshots[name], directory / files[name], pg_dump)
                        for name in snapshots
                    )
                )
            manifest = Manifest(
                settings.namespace,
                datetime.now(UTC).isoformat(),
                attempt,
                heads,
                relayed,
                files,
                catchups,
            )
            await asyncio.to_thread((directory / MANIFEST).write_text, manifest.to_json())
            return manifest
    raise BackupFailed(f"no consistent cut in {CUT_ATTEMPTS} attempts: {'; '.join(ghosts)}")


# --- the restore ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    databases: list[str]
    backfilled: dict[str, int]  # "consumer<-producer" -> events republished to the consumer


async def _refuse_existing(settings: Settings, names: Sequence[str]) -> None:
    for name in names:
        server = _dsn(settings, name)
        conn = await asyncpg.connect(db.dsn_for_database(server, "postgres"))
        try:
            database = settings.database_name(name)
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                raise BackupFailed(
                    f"database {database} exists: restore into a fresh namespace"
                    " (GRADELINE_NAMESPACE), or drop it first"
                )
        finally:
            await conn.close()


async def _restore_one(settings: Settings, name: str, file: Path, pg_restore: str) -> None:
    dsn = _dsn(settings, name)
    await db.ensure_database(db.dsn_for_database(dsn, "postgres"), settings.database_name(name))
    process = await asyncio.create_subprocess_exec(
        pg_restore,
        "--no-owner",
        "--exit-on-error",
        f"--dbname={dsn}",
        str(file),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise BackupFailed(f"pg_restore of {name} failed ({process.returncode}): {err.decode()}")


async def restore(settings: Settings, directory: Path, pg_restore: str = "pg_restore") -> Restored:
    """Restore ``directory`` into ``settings``' namespace (whose databases must not exist yet),
    then back-fill each consumer with what it lacked at the cut. Run it before the services of
    that namespace start: they would create empty databases."""
    manifest = await asyncio.to_thread(Manifest.read, directory)
    names = list(manifest.files)
    await _refuse_existing(settings, names)
    await asyncio.gather(
        *(_restore_one(settings, n, directory / manifest.files[n], pg_restore) for n in names)
    )
    backfilled = {}
    for c in manifest.catchups:
        if c.after < c.through:
            sent, _ = await backfill(settings, c.consumer, c.producer, c.after, c.through)
            backfilled[f"{c.consumer}<-{c.producer}"] = sent
    return Restored(names, backfilled)


# --- the commands -----------------------------------------------------------------------------

console = Console()
T = TypeVar("T")


def _run_or_exit(work: Coroutine[Any, Any, T], what: str) -> T:
    """``work``'s result; on failure its reason, and exit code 1."""
    try:
        return asyncio.run(work)
    except (BackupFailed, asyncpg.PostgresError, OSError) as exc:
        console.print(f"[red]{what} failed: {exc}")
        raise typer.Exit(1) from None


def backup_command(
    directory: Annotated[Path, typer.Argument(help="where to write the dumps and manifest.json")],
) -> None:
    """Dump the namespace's four service databases and its key database as one consistent cut."""
    settings = Settings()
    manifest = _run_or_exit(take_backup(settings, directory), "backup")
    lacking = sum(c.lacking for c in manifest.catchups)
    console.print(
        f"backed up {settings.namespace} into {directory} (cut {manifest.attempts}:"
        f" heads {manifest.heads}; {lacking} upstream events in flight, back-filled on restore)"
    )


def restore_command(
    directory: Annotated[Path, typer.Argument(help="a directory written by gradeline backup")],
) -> None:
    """Restore a backup into GRADELINE_NAMESPACE (fresh databases), then back-fill what each
    consumer lacked at the cut. Start the services afterwards."""
    settings = Settings()
    done = _run_or_exit(restore(settings, directory), "restore")
    console.print(
        f"restored {', '.join(done.databases)} into {settings.namespace};"
        f" back-filled {done.backfilled or 'nothing'}: start the services now"
    )
