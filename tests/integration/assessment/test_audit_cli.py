"""``gradeline audit``: the CLI sweep over every trainee of a real assessment database, exit 0
while the history is untouched, exit 1 once a stored event row is edited."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from ops.cli import app

runner = CliRunner()


async def graded(svc, trainee_id):
    await svc.enrol(trainee_id)
    await svc.plan(trainee_id, [(1, "X4", "tr-1")])
    await svc.sign(trainee_id, 1, "tr-1")
    await svc.sit("s-1", trainee_id)
    assert (await svc.grade(trainee_id)).status_code == 200


async def audit(settings, *args):
    """The command in a thread: it runs its own event loop, as it does from a shell."""
    env = {"GRADELINE_PG_DSN": settings.pg_dsn, "GRADELINE_NAMESPACE": settings.namespace}
    return await asyncio.to_thread(runner.invoke, app, ["audit", *args], env=env)


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
