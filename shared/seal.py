"""Seals: a keyed digest of every stream's head, so that a truncated stream or a recomputed
chain shows (ADR 0009).

The hash chain shows an event edited in place, but not a stream's last events deleted (what is
left is a whole chain) nor a chain recomputed from an edit on (the digest is no secret). A seal
records each stream's head (stream id, version, hash) as of a position, with an HMAC-SHA256 of
them under a key kept outside the database (``GRADELINE_SEAL_KEY``): someone who can write the
database but does not hold the key can neither make the store agree with a seal nor forge one.
Each service process writes one every ``GRADELINE_SEAL_INTERVAL_MINUTES``, ``gradeline seal``
on demand; ``gradeline verify`` and ``gradeline audit`` check the newest against the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger()

SEAL_LOCK = 7265616404  # one seal written at a time per store, whatever the processes
# Seals kept, newest first: verify checks the newest; older ones are history, and a seal holds a
# line per stream.
KEEP_SEALS = 50

Head = tuple[str, int, bytes]  # stream id, version, hash

# Each stream's last event at or before a position: the (stream_id, version) index, descending.
_HEADS_SQL = (
    "SELECT DISTINCT ON (stream_id) stream_id, version, hash FROM events"
    " WHERE position <= $1 ORDER BY stream_id, version DESC"
)


@dataclass(frozen=True, slots=True)
class Seal:
    id: int
    position: int
    sealed_at: datetime
    key_id: str
    streams: int
    mac: bytes


@dataclass(frozen=True, slots=True)
class SealReport:
    """The newest seal (None: none yet) and each way the store differs from it."""

    seal: Seal | None
    problems: list[str]


def key_id(key: bytes) -> str:
    """Names a key without revealing it, so a check can tell "another key" from "an altered
    seal"."""
    return hashlib.sha256(b"gradeline seal key id\x00" + key).hexdigest()[:16]


def _mac(key: bytes, service: str, position: int, heads: Iterable[Head]) -> bytes:
    """HMAC-SHA256 over the service, the position and the heads in stream id order. Stream ids
    hold no NUL (PostgreSQL text cannot) and hashes are 32 bytes: the encoding is unambiguous."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(f"gradeline seal 1\x00{service}\x00{position}\n".encode())
    for stream, version, digest in heads:
        mac.update(f"{stream}\x00{version}\x00".encode() + digest)
    return mac.digest()


async def _heads(source: Any, position: int) -> list[Head]:
    rows = await source.fetch(_HEADS_SQL, position)
    return sorted((row[0], row[1], bytes(row[2])) for row in rows)


async def write_seal(
    pool: asyncpg.Pool, service: str, key: bytes, *, force: bool = False
) -> Seal | None:
    """Seal the store's heads as of its head position; None when there is nothing new to seal
    (no events, or the newest seal already covers them with this key) or another process is
    sealing right now. ``force``: seal even when the newest seal covers the same position (the
    chains of some streams were recomputed in place: ``gradeline personal reencrypt``)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        # One snapshot for the head position and the heads: positions are commit-ordered
        # (ADR 0001), so every event at or below the position is in it.
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SEAL_LOCK):
            return None
        position = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))
        newest = await conn.fetchrow("SELECT position, key_id FROM seals ORDER BY id DESC LIMIT 1")
        covered = newest is not None and tuple(newest) == (position, key_id(key))
        if position == 0 or (covered and not force):
            return None
        heads = await _heads(conn, position)
        mac = _mac(key, service, position, heads)
        row = await conn.fetchrow(
            "INSERT INTO seals (position, key_id, heads, mac) VALUES ($1, $2, $3, $4)"
            " RETURNING id, sealed_at",
            position,
            key_id(key),
            [[s, v, h.hex()] for s, v, h in heads],
            mac,
        )
        assert row is not None
        await conn.execute(
            "DELETE FROM seals WHERE id <= (SELECT id FROM seals ORDER BY id DESC"
            " OFFSET $1 LIMIT 1)",
            KEEP_SEALS,
        )
    return Seal(row[0], position, row[1], key_id(key), len(heads), mac)


async def check_seal(source: Any, service: str, key: bytes) -> SealReport:
    """Compare the newest seal with the store (a pool or a connection): its MAC under ``key``,
    then every stream's head as of the seal's position, naming each stream that differs."""
    row = await source.fetchrow(
        "SELECT id, position, sealed_at, key_id, heads, mac FROM seals ORDER BY id DESC LIMIT 1"
    )
    if row is None:
        return SealReport(None, [])
    sealed = [(s, int(v), bytes.fromhex(h)) for s, v, h in row["heads"]]
    seal = Seal(
        row["id"], row["position"], row["sealed_at"], row["key_id"], len(sealed), bytes(row["mac"])
    )
    problems = _key_problems(seal, service, key, sealed)
    problems += _head_problems(seal, sealed, await _heads(source, seal.position))
    return SealReport(seal, problems)


def _key_problems(seal: Seal, service: str, key: bytes, sealed: Sequence[Head]) -> list[str]:
    if seal.key_id != key_id(key):
        return [
            f"seal #{seal.id} was written with another key (key id {seal.key_id}, this key's"
            f" is {key_id(key)}): check GRADELINE_SEAL_KEY, or the seal was forged"
        ]
    if not hmac.compare_digest(seal.mac, _mac(key, service, seal.position, sealed)):
        return [f"seal #{seal.id} does not match its key: the seal itself was altered"]
    return []


def _head_problems(seal: Seal, sealed: Sequence[Head], stored: Sequence[Head]) -> list[str]:
    """Each stream whose head in the store (as of the seal's position) is not the sealed one."""
    store = {stream: (version, digest) for stream, version, digest in stored}
    problems = []
    for stream, version, digest in sealed:
        found = store.pop(stream, None)
        if found != (version, digest):
            problems.append(f"stream {stream}: {_difference(seal, version, found)}")
    for stream, (version, _) in sorted(store.items()):
        problems.append(
            f"stream {stream}: events up to version {version}, at or before position"
            f" {seal.position}, that seal #{seal.id} does not know (inserted)"
        )
    return problems


def _difference(seal: Seal, version: int, found: tuple[int, bytes] | None) -> str:
    sealed = f"sealed at version {version} by seal #{seal.id}"
    if found is None:
        return f"{sealed}, none of its events is left (deleted)"
    if found[0] < version:
        return f"{sealed}, the store ends at version {found[0]} (events deleted)"
    return f"{sealed}, its head differs (events rewritten, or inserted below the seal)"


async def seal_periodically(
    pool: asyncpg.Pool, service: str, key: bytes, interval_seconds: float
) -> None:
    """Write a seal now and every ``interval_seconds``. Each seal is logged with its MAC: the
    log lives outside the database, so an operator can match the newest seal against it (a
    seal deleted to hide what came after shows there)."""
    while True:
        try:
            seal = await write_seal(pool, service, key)
        except Exception as exc:  # the next round tries again; a seal is never worth a crash
            log.error("seal.failed", service=service, error=repr(exc))
        else:
            if seal is not None:
                log.info(
                    "seal.written",
                    service=service,
                    seal=seal.id,
                    position=seal.position,
                    streams=seal.streams,
                    mac=seal.mac.hex(),
                )
        await asyncio.sleep(interval_seconds)
