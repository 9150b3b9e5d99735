"""Every advisory lock of the core has a key of its own. Two locks sharing a key exclude each
other silently: the relay holds its lock for as long as it runs, so a seal taking the same key
with ``pg_try_advisory_xact_lock`` found it taken and wrote nothing (ADR 0009's periodic seals
never came while a relay ran)."""

from __future__ import annotations

from shared.db import MIGRATION_LOCK
from shared.inbox import INBOX_LOCK
from shared.projections import Projection
from shared.reencrypt import APPEND_LOCK
from shared.relay import RELAY_LOCK
from shared.seal import SEAL_LOCK

LOCKS = {
    "migrations": MIGRATION_LOCK,
    "relay": RELAY_LOCK,
    "seal": SEAL_LOCK,
    "inbox": INBOX_LOCK,
    "append": APPEND_LOCK,
}


def test_each_lock_of_the_core_has_a_key_of_its_own():
    by_key: dict[int, list[str]] = {}
    for name, key in LOCKS.items():
        by_key.setdefault(key, []).append(name)
    assert {k: names for k, names in by_key.items() if len(names) > 1} == {}


def test_the_projections_keys_lie_above_every_fixed_lock():
    """A projection's key is 7265616500 + crc32(its name): never one of the fixed locks."""
    names = ("grade_board", "trainer_board", "trends", "progress", "erasure", "")
    assert min(Projection(name, "", None).lock_key for name in names) >= 7265616500
    assert max(LOCKS.values()) < 7265616500
