"""The restore drill of issue 20: the five databases dumped with ``pg_dump`` while the load tool
runs (``gradeline backup``: one consistent cut), restored into a fresh namespace (``gradeline
restore``), the four services started on it: the relays resume and the back-fill of what was in
flight at the cut completes every inbox, nothing lost and nothing applied twice, every projection
equal to its rebuild, every grade re-derived and every payslip recomputed (bench/load/checks.py,
the load tool's own proofs)."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import pytest

from bench.load import checks
from bench.load.cluster import Cluster, cluster_settings, free_port_offset
from bench.load.http import Recorder
from bench.load.run import run_load
from ops import backup
from shared import db
from tests.load.harness import LOG_DIR, config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

TOOLS = ("pg_dump", "pg_restore")
CONVERGE_SECONDS = 90.0  # back-fill and relay catch-up on two shared cores


def needs_pg_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (Debian: postgresql-client)")


async def backup_under_load(source: Cluster, directory: Path) -> tuple[backup.Manifest, int, int]:
    """The backup taken once the load is well under way; (manifest, requests sent when it
    started, requests sent when it ended). The load then runs to its end."""
    load = config(seed=2001, trainees=12)
    outcome = asyncio.ensure_future(
        run_load(source.urls, source.settings.jwt_secret, load, recorder := Recorder())
    )
    async with asyncio.timeout(120):
        while recorder.requests < 200:
            assert not outcome.done(), "the load ended before the backup could start"
            await asyncio.sleep(0.1)
    before = recorder.requests
    manifest = await backup.take_backup(source.settings, directory)
    after = recorder.requests
    assert not outcome.done(), "the load must still run while the backup is taken"
    result = await outcome
    assert not result.problems, result.problems
    return manifest, before, after


async def restored_heads(target) -> dict[str, int]:
    heads = {}
    for service in backup.SERVICES:
        conn = await db.connect(db.dsn_for_database(target.pg_dsn, target.database_name(service)))
        try:
            heads[service] = int(
                await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
            )
        finally:
            await conn.close()
    return heads


# Two clusters at once: pools of four keep them inside PostgreSQL's connection limit beside the
# other test workers' services.
SMALL_POOLS = {"GRADELINE_POOL_SIZE": "4"}


def test_a_backup_under_load_restores_into_a_fresh_namespace_that_converges(
    pg_dsn: str, amqp_url: str, tmp_path: Path
) -> None:
    needs_pg_tools()
    source = Cluster(cluster_settings(pg_dsn, amqp_url), LOG_DIR, env=SMALL_POOLS)
    target_settings = source.settings.model_copy(  # the same secrets: the seals were made so
        update={"namespace": "r" + uuid.uuid4().hex[:12], "port_offset": free_port_offset()}
    )
    target = Cluster(target_settings, LOG_DIR, env=SMALL_POOLS)
    try:
        for name in backup.SERVICES:
            source.start(name)
        asyncio.run(source.wait_ready())
        manifest, before, after = asyncio.run(backup_under_load(source, tmp_path))
        source.stop()  # its cores for the restored namespace

        assert after > before  # requests went on being answered while the dumps were taken
        assert sorted(manifest.files) == sorted([*backup.SERVICES, "keys"])
        assert all((tmp_path / f).stat().st_size > 0 for f in manifest.files.values())
        assert all(manifest.heads[s] > 0 for s in backup.SERVICES)

        restored = asyncio.run(backup.restore(target_settings, tmp_path))
        assert sorted(restored.databases) == sorted(manifest.files)
        # What the consumers lacked at the cut was republished to them, nothing else.
        wanted = {f"{c.consumer}<-{c.producer}" for c in manifest.catchups if c.after < c.through}
        assert set(restored.backfilled) == wanted

        for name in backup.SERVICES:
            target.start(name)
        asyncio.run(target.wait_ready())
        results = asyncio.run(checks.run_checks(target_settings, {}, CONVERGE_SECONDS))
        failed = [f"{r.name}: {r.detail}" for r in results if not r.ok]
        assert failed == []
        assert {"converged", "inbox", "projections", "audit", "payslips"} <= {
            r.name for r in results
        }
        # Nothing was appended in the restored namespace: its stores are exactly the cut, and
        # every event a consumer applied before the cut is still known to its producer.
        assert asyncio.run(restored_heads(target_settings)) == manifest.heads
    finally:
        source.stop()
        target.stop()
        asyncio.run(source.drop())
        asyncio.run(target.drop())


def test_a_restore_refuses_a_namespace_whose_databases_exist(
    pg_dsn: str, amqp_url: str, tmp_path: Path
) -> None:
    settings = cluster_settings(pg_dsn, amqp_url)
    manifest = backup.Manifest(
        settings.namespace, "2026-01-01T00:00:00+00:00", 1, {}, {}, {"training": "t.dump"}, []
    )
    (tmp_path / backup.MANIFEST).write_text(manifest.to_json())

    async def go() -> str:
        await db.ensure_database(settings.pg_dsn, settings.database_name("training"))
        try:
            with pytest.raises(backup.BackupFailed) as refused:
                await backup.restore(settings, tmp_path)
            return str(refused.value)
        finally:
            await db.drop_database(settings.pg_dsn, settings.database_name("training"))

    assert f"database {settings.database_name('training')} exists" in asyncio.run(go())
