"""``gradeline audit``: the CLI sweep over every trainee of a real assessment database, exit 0
while the history is untouched, exit 1 once a stored event row is edited."""

from __future__ import annotations

import asyncio
import re

from typer.testing import CliRunner

from ops.cli import app

runner = CliRunner()


async def graded(svc, trainee_id):
    await svc.enrol(trainee_id)
    await svc.plan(trainee_id, [(1, "X4", "tr-1")])
    await svc.sign(trainee_id, 1, "tr-1")
    await svc.sit("s-1", trainee_id)
    assert (await svc.grade(trainee_id)).status_code == 200


async def gradeline(settings, *args, seal_key=None):
    """The command in a thread: it runs its own event loop, as it does from a shell."""
    env = {
        "GRADELINE_PG_DSN": settings.pg_dsn,
        "GRADELINE_NAMESPACE": settings.namespace,
        "GRADELINE_SEAL_KEY": seal_key or settings.seal_key.get_secret_value(),
    }
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def audit(settings, *args):
    return await gradeline(settings, "audit", *args)


async def test_the_sweep_passes_an_untouched_history_and_fails_an_edited_one(svc, settings):
    await svc.open_session()
    await graded(svc, "t-a")
    await graded(svc, "t-b")
    await svc.enrol("t-c")  # known, never examined: nothing to re-derive, still swept

    clean = await audit(settings, "--service", "assessment")
    assert clean.exit_code == 0, clean.output
    assert "3 trainees audited, all consistent" in clean.output

    await svc.pool.execute(
        "UPDATE events SET data = jsonb_set(data, '{level}', '\"senior\"')"
        " WHERE type = 'GradeAssigned' AND data ->> 'trainee_id' = 't-b'"
    )
    tampered = await audit(settings)  # --service defaults to assessment
    assert tampered.exit_code == 1, tampered.output
    assert "1 of 3 trainees inconsistent" in tampered.output
    assert "t-b" in tampered.output and "t-a" not in tampered.output
    assert "level" in tampered.output and "tampering" in tampered.output


async def test_a_service_without_an_audit_is_refused(settings):
    result = await audit(settings, "--service", "training")
    assert result.exit_code == 2
    assert "training has no audit" in result.output


async def test_verify_and_audit_name_a_stream_truncated_after_a_seal_and_a_wrong_key(svc, settings):
    """Deleting a stream's last event leaves a whole chain: the seal shows it (ADR 0009)."""
    await svc.open_session()
    await graded(svc, "t-a")
    # The service seals at start and periodically too: if its own seal already covers the
    # grades, the command has nothing new to seal, and while the service is writing one (it may
    # have begun before the grades) the command leaves it be; asked again, the newest seal
    # covers them.
    head = await svc.pool.fetchval("SELECT max(position) FROM events")
    async with asyncio.timeout(20):
        while True:
            sealed = await gradeline(settings, "seal", "assessment")
            assert sealed.exit_code == 0, sealed.output
            assert re.search(r"seal #\d+ covers|nothing new to seal", sealed.output), sealed.output
            if await svc.pool.fetchval("SELECT coalesce(max(position), 0) FROM seals") >= head:
                break
            await asyncio.sleep(0.2)
    clean = await gradeline(settings, "verify", "assessment")
    assert clean.exit_code == 0 and re.search(r"seal #\d+", clean.output), clean.output

    last = await svc.pool.fetchrow("SELECT stream_id, version FROM events ORDER BY position DESC")
    await svc.pool.execute("DELETE FROM events WHERE stream_id = $1 AND version = $2", *last)
    for command in (["verify", "assessment"], ["audit"]):
        truncated = await gradeline(settings, *command)
        assert truncated.exit_code == 1, truncated.output
        text = " ".join(truncated.output.split())  # the console wraps long lines
        assert f"stream {last[0]}: sealed at version {last[1]}" in text and "deleted" in text

    other = await gradeline(settings, "verify", "assessment", seal_key="another-key-" * 4)
    assert other.exit_code == 1 and "another key" in " ".join(other.output.split())
