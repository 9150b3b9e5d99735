"""The subjects' keys in PostgreSQL: the key store of shared.personal (docs/privacy.md).

One database per deployment (``<namespace>_keys``), apart from the services' event stores, shared
by the four services: a service revealing another's events uses the same key. Its backups are
kept for a short time only (docs/privacy.md): once the last backup holding a destroyed key has
expired, the erased person's data is unreadable everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg

from shared import db
from shared.personal import KEY_BYTES, PersonalData, PersonalFields
from shared.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
KEYSTORE = "keys"  # the database's name after the namespace: <namespace>_keys


_KEYS_SQL = "SELECT subject, key FROM personal_keys WHERE subject = ANY($1::text[])"
# The subjects' keys, made for those without a row. The final SELECT sees the table as the
# statement started, the INSERT's RETURNING the rows it made; a row another process inserted
# meanwhile is in neither (ON CONFLICT leaves it alone) and is read back after.
_KEYS_OR_NEW_SQL = """
WITH made AS (
    INSERT INTO personal_keys (subject, key)
    SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT DO NOTHING
    RETURNING subject, key
)
SELECT subject, key FROM made
UNION ALL
SELECT subject, key FROM personal_keys WHERE subject = ANY($1::text[])
"""


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


class PostgresKeyStore:
    """:class:`shared.personal.KeyStore` on a pool of the key database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def keys(self, subjects: Collection[str], *, create: bool) -> Mapping[str, bytes | None]:
        wanted = sorted(set(subjects))
        if not create:
            rows = await self.pool.fetch(_KEYS_SQL, wanted)
            return {r[0]: r[1] for r in rows}
        # One round trip for the keys there are and the keys made (an enrolment seals a new
        # person's fields before its append can start: python -m bench personal).
        rows = await self.pool.fetch(_KEYS_OR_NEW_SQL, wanted, [new_key() for _ in wanted])
        found: dict[str, bytes | None] = {r[0]: r[1] for r in rows}
        raced = [s for s in wanted if s not in found]
        if raced:  # made by another process since this statement's snapshot: read them back
            found.update({r[0]: r[1] for r in await self.pool.fetch(_KEYS_SQL, raced)})
        return found

    async def destroy(self, subject: str, reason: str) -> bool:
        row = await self.pool.fetchrow(
            "INSERT INTO personal_keys AS k (subject, key, erased_at, reason)"
            " VALUES ($1, NULL, now(), $2)"
            " ON CONFLICT (subject) DO UPDATE SET key = NULL, erased_at = now(),"
            " reason = EXCLUDED.reason WHERE k.key IS NOT NULL"
            " RETURNING subject",
            subject,
            reason,
        )
        return row is not None

    async def erased(self, subjects: Collection[str]) -> set[str]:
        rows = await self.pool.fetch(
            "SELECT subject FROM personal_keys WHERE subject = ANY($1::text[]) AND key IS NULL",
            sorted(set(subjects)),
        )
        return {r[0] for r in rows}


async def open_key_store(settings: Settings, stack: AsyncExitStack) -> PostgresKeyStore:
    """The deployment's key database, created and migrated if need be; closed with ``stack``."""
    server = settings.keystore_dsn or settings.pg_dsn
    database = settings.database_name(KEYSTORE)
    await db.ensure_database(server, database)
    pool = await db.create_pool(
        db.dsn_for_database(server, database), size=2, liveness=settings.db_liveness()
    )
    stack.push_async_callback(pool.close)
    await db.migrate(pool, [MIGRATIONS])
    return PostgresKeyStore(pool)


async def open_personal_data(
    settings: Settings, stack: AsyncExitStack, fields: Mapping[str, PersonalFields]
) -> PersonalData:
    return PersonalData(await open_key_store(settings, stack), fields)
